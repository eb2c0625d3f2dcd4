// --precision end to end on the CPU: a bf16 run trains on the rounding
// reference (other figures than fp32, as close as bf16 allows), records its
// precision in the checkpoint and summary.json, resumes bit for bit, and a
// resume at another precision is refused naming the option.
#include <nlohmann/json.hpp>

#include "engine/dispatch.h"
#include "tests/train/train_test_util.h"

namespace nebula {
namespace {

using namespace train_test;

TEST_F(TrainEndToEnd, ABf16RunTrainsRecordsItsPrecisionAndResumes) {
  TrainConfig fp32 = config("fp32", 3);
  const TrainResult exact = train(fp32);
  TrainConfig whole = config("bf16_whole", 3);
  whole.precision = "bf16";
  const TrainResult rounded = train(whole);
  set_precision(Precision::FP32);
  EXPECT_NE(rounded.test_rmse, exact.test_rmse);
  ASSERT_GT(exact.mean_predictor_test_rmse, 0);
  EXPECT_LT(std::abs(rounded.best_val_rmse - exact.best_val_rmse), 0.1 * exact.best_val_rmse);
  const auto summary = nlohmann::json::parse(read_text_file(whole.out_dir + "/summary.json"));
  EXPECT_EQ(summary["training"]["precision"], "bf16");
  EXPECT_EQ(read_safetensors(whole.out_dir + "/last.safetensors").metadata().at("precision"), "bf16");

  TrainConfig first = whole, rest = whole;
  first.out_dir = rest.out_dir = (root_ / "bf16_resumed").string();
  first.epochs = 2;
  train(first);
  rest.resume = true;
  train(rest);
  expect_same_history(whole.out_dir + "/history.csv", rest.out_dir + "/history.csv");
  expect_same_tensors(whole.out_dir + "/last.safetensors", rest.out_dir + "/last.safetensors");
  TrainConfig other = rest;
  other.precision = "fp32";
  expect_error([&] { train(other); }, {"last.safetensors", "--precision bf16, not fp32", "without --resume"});
  other.precision = "fp16";
  expect_error([&] { train(other); }, {"--precision must be fp32, tf32 or bf16, got 'fp16'"});
}

}  // namespace
}  // namespace nebula
