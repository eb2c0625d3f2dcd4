// The threaded loader: identical batches whatever the thread count, every row
// once per epoch, broken images skipped and counted, awkward ones used, worker
// errors raised in the caller, clean restarts and shutdowns.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "base/error.h"
#include "data/loader.h"
#include "data/synth.h"
#include "data_test_util.h"
#include "engine/device.h"

namespace nebula::data {
namespace {

// A small generated data set in the Kaggle layout (96-pixel images keep it quick).
class LoaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    SynthOptions options;
    options.size = 96;
    make_galaxies(dir_->path(), 45, 11, 2, options);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string images() { return dir_->path() + "/images_training_rev1"; }
  static test::TempDir* dir_;
};
test::TempDir* LoaderTest::dir_ = nullptr;

std::vector<size_t> all_rows(const Dataset& data) {
  std::vector<size_t> rows(data.rows());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  return rows;
}

LoaderOptions training_options(int threads) {
  LoaderOptions o;
  o.batch_size = 8;
  o.preprocess = Preprocess{60, 24};
  o.augment = true;
  o.shuffle = true;
  o.seed = 5;
  o.threads = threads;
  o.on_broken = [](const BrokenImage&) {};
  return o;
}

struct Epoch {
  std::vector<std::vector<float>> images, labels;
  std::vector<std::vector<int64_t>> ids;
};

Epoch run_epoch(Loader& loader, int epoch) {
  Epoch out;
  loader.start_epoch(epoch);
  Batch batch;
  while (loader.next(&batch)) {
    out.images.push_back(batch.images.to_vector());
    out.labels.push_back(batch.labels.defined() ? batch.labels.to_vector() : std::vector<float>{});
    out.ids.push_back(batch.ids);
  }
  return out;
}

TEST_F(LoaderTest, SameBatchesForOneAndFourThreads) {
  Dataset data = open_kaggle(dir_->path());
  Loader one(data, all_rows(data), training_options(1));
  LoaderOptions four_options = training_options(4);
  four_options.prefetch = 2;
  Loader four(data, all_rows(data), four_options);
  LoaderOptions cached_options = training_options(3);
  cached_options.cache = true;
  Loader cached(data, all_rows(data), cached_options);
  for (int epoch : {0, 1, 2}) {
    Epoch a = run_epoch(one, epoch), b = run_epoch(four, epoch), c = run_epoch(cached, epoch);
    ASSERT_EQ(a.ids.size(), 6u);
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(a.ids, c.ids);
    EXPECT_TRUE(a.images == b.images) << "epoch " << epoch;
    EXPECT_TRUE(a.images == c.images) << "epoch " << epoch;
    EXPECT_EQ(a.labels, b.labels);
  }
}

TEST_F(LoaderTest, EveryRowOncePerEpochWithItsLabels) {
  Dataset data = open_kaggle(dir_->path());
  std::vector<size_t> rows = {0, 3, 4, 10, 11, 12, 20, 30, 40, 44};
  LoaderOptions o = training_options(2);
  o.batch_size = 4;
  Loader loader(data, rows, o);
  EXPECT_EQ(loader.batches_per_epoch(), 3u);
  std::vector<int64_t> first_order;
  for (int epoch : {0, 1}) {
    loader.start_epoch(epoch);
    Batch batch;
    std::multiset<size_t> seen;
    std::vector<int64_t> order;
    size_t batches = 0;
    while (loader.next(&batch)) {
      EXPECT_EQ(batch.index, batches++);
      EXPECT_EQ(batch.epoch, epoch);
      ASSERT_EQ(batch.images.shape(), (Shape{int64_t(batch.size()), 3, 24, 24}));
      ASSERT_EQ(batch.labels.shape(), (Shape{int64_t(batch.size()), 37}));
      std::vector<float> labels = batch.labels.to_vector();
      for (size_t i = 0; i < batch.size(); ++i) {
        seen.insert(batch.rows[i]);
        order.push_back(batch.ids[i]);
        EXPECT_EQ(batch.ids[i], data.ids[batch.rows[i]]);
        EXPECT_EQ(0, std::memcmp(&labels[i * 37], data.label_row(batch.rows[i]), 37 * sizeof(float)));
      }
      for (float v : batch.images.to_vector()) ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
    }
    EXPECT_EQ(seen, std::multiset<size_t>(rows.begin(), rows.end()));
    if (epoch == 0)
      first_order = order;
    else
      EXPECT_NE(order, first_order) << "the shuffle must differ between epochs";
  }
}

TEST_F(LoaderTest, DropLastAndPlainOrder) {
  Dataset data = open_kaggle(dir_->path());
  LoaderOptions o;
  o.batch_size = 10;
  o.preprocess = Preprocess{0, 16};
  o.drop_last = true;
  o.threads = 2;
  Loader loader(data, all_rows(data), o);
  Epoch e = run_epoch(loader, 0);
  ASSERT_EQ(e.ids.size(), 4u);
  EXPECT_EQ(e.ids[0][0], data.ids[0]);
  EXPECT_EQ(e.ids[3][9], data.ids[39]);
}

TEST_F(LoaderTest, BrokenImagesAreSkippedAndCountedAwkwardOnesUsed) {
  test::TempDir copy;
  std::filesystem::copy(dir_->path(), copy.path(), std::filesystem::copy_options::recursive);
  Dataset original = open_kaggle(copy.path());
  const std::string images = copy.path() + "/images_training_rev1/";
  auto path = [&](size_t row) { return images + std::to_string(original.ids[row]) + ".jpg"; };
  std::vector<uint8_t> good;
  std::string error;
  ASSERT_TRUE(read_file(path(0), &good, &error));

  // Broken: empty, garbage, truncated, missing.
  write_file_atomic(path(1), "", 0);
  write_file_atomic(path(2), std::string(500, 'x'));
  write_file_atomic(path(3), good.data(), good.size() / 2);
  std::filesystem::remove(path(4));
  // Awkward but valid: grayscale, CMYK, progressive, another size, PNG in place of the JPEG.
  std::vector<uint8_t> rgb = test::pattern_image(96, 96), gray(96 * 96), cmyk(96 * 96 * 4);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = rgb[3 * i];
  rgb_to_cmyk(rgb.data(), cmyk.data(), gray.size());
  auto put = [&](size_t row, const std::vector<uint8_t>& bytes) {
    write_file_atomic(path(row), bytes.data(), bytes.size());
  };
  put(5, encode_jpeg(gray.data(), 96, 96, 1));
  put(6, encode_jpeg(cmyk.data(), 96, 96, 4));
  put(7, encode_jpeg(rgb.data(), 96, 96, 3, JpegOptions{90, true, true}));
  std::vector<uint8_t> big = test::pattern_image(300, 200);
  put(8, encode_jpeg(big.data(), 300, 200, 3));
  std::filesystem::remove(path(9));
  std::vector<uint8_t> png = encode_png(rgb.data(), 96, 96, 3);
  write_file_atomic(images + std::to_string(original.ids[9]) + ".png", png.data(), png.size());

  Dataset data = open_kaggle(copy.path());
  EXPECT_EQ(data.missing_images, 1u);
  EXPECT_EQ(data.files[9], images + std::to_string(original.ids[9]) + ".png");
  std::vector<BrokenImage> reported;
  LoaderOptions o = training_options(3);
  o.on_broken = [&](const BrokenImage& b) { reported.push_back(b); };
  Loader loader(data, all_rows(data), o);
  for (int epoch : {0, 1}) {
    Epoch e = run_epoch(loader, epoch);
    std::set<int64_t> ids;
    for (auto& batch : e.ids) ids.insert(batch.begin(), batch.end());
    EXPECT_EQ(ids.size(), data.rows() - 4) << "epoch " << epoch;
    for (size_t row = 1; row <= 4; ++row) EXPECT_EQ(ids.count(data.ids[row]), 0u);
    for (size_t row = 5; row <= 9; ++row) EXPECT_EQ(ids.count(data.ids[row]), 1u);
  }
  // Reported once each, with ID, file and reason, in spite of two epochs.
  ASSERT_EQ(reported.size(), 4u);
  EXPECT_EQ(loader.skipped(), 4u);
  std::map<int64_t, std::string> reasons;
  for (const BrokenImage& b : loader.broken()) {
    reasons[b.id] = b.reason;
    EXPECT_NE(b.path.find(std::to_string(b.id)), std::string::npos);
  }
  EXPECT_EQ(reasons[data.ids[1]], "empty file");
  EXPECT_EQ(reasons[data.ids[2]], "not a JPEG or PNG file");
  EXPECT_NE(reasons[data.ids[3]].find("JPEG"), std::string::npos) << reasons[data.ids[3]];
  EXPECT_EQ(reasons[data.ids[4]], "missing file");
  EXPECT_EQ(describe(loader.broken()[0]).rfind("GalaxyID ", 0), 0u);
}

TEST_F(LoaderTest, WorkerErrorsAreRaisedInTheCaller) {
  test::TempDir copy;
  std::filesystem::copy(dir_->path(), copy.path(), std::filesystem::copy_options::recursive);
  Dataset data = open_kaggle(copy.path());
  std::filesystem::remove(copy.path() + "/images_training_rev1/" + std::to_string(data.ids[20]) + ".jpg");
  LoaderOptions o = training_options(2);
  o.shuffle = false;
  o.on_broken = [](const BrokenImage& b) { throw Error("refusing " + describe(b)); };
  Loader loader(data, all_rows(data), o);
  loader.start_epoch(0);
  Batch batch;
  ASSERT_TRUE(loader.next(&batch));  // rows 0-7
  ASSERT_TRUE(loader.next(&batch));  // rows 8-15
  try {
    loader.next(&batch);  // rows 16-23 hold the missing image
    FAIL() << "expected the worker's error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("refusing GalaxyID " + std::to_string(data.ids[20])), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(loader.next(&batch));  // the loader goes on
}

TEST_F(LoaderTest, RestartsAndStopsCleanly) {
  Dataset data = open_kaggle(dir_->path());
  {
    Loader loader(data, all_rows(data), training_options(2));
    Batch batch;
    EXPECT_THROW(loader.next(&batch), Error);  // no epoch started
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next(&batch));
    loader.start_epoch(1);  // abandon epoch 0 half-way
    Epoch restarted = run_epoch(loader, 1);
    // No batch of the abandoned epoch leaks into the new one: it is exactly a fresh loader's epoch 1.
    Loader fresh(data, all_rows(data), training_options(2));
    Epoch expected = run_epoch(fresh, 1);
    EXPECT_EQ(restarted.ids.size(), 6u);
    EXPECT_EQ(restarted.ids, expected.ids);
    EXPECT_EQ(restarted.images, expected.images);
    loader.start_epoch(2);  // destroyed with batches in flight: the destructor must join its workers
  }
  // Destruction left nothing behind that a new loader over the same data trips on.
  Loader after(data, all_rows(data), training_options(2));
  Epoch again = run_epoch(after, 2);
  size_t served = 0;
  for (const auto& ids : again.ids) served += ids.size();
  EXPECT_EQ(served, data.rows());
}

TEST_F(LoaderTest, UnlabelledImagesForPrediction) {
  Dataset data = open_images(images());
  EXPECT_FALSE(data.labelled());
  ASSERT_EQ(data.rows(), 45u);
  EXPECT_TRUE(std::is_sorted(data.ids.begin(), data.ids.end()));
  LoaderOptions o;
  o.batch_size = 20;
  o.preprocess = Preprocess{0, 16};
  Loader loader(data, all_rows(data), o);
  Epoch e = run_epoch(loader, 0);
  ASSERT_EQ(e.ids.size(), 3u);
  EXPECT_EQ(e.ids[2].size(), 5u);
  EXPECT_TRUE(e.labels[0].empty());
}

TEST_F(LoaderTest, BatchesLandOnTheGpuWhenThereIsOne) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  Dataset data = open_kaggle(dir_->path());
  LoaderOptions cpu = training_options(2), gpu = training_options(2);
  gpu.device = Device::CUDA;
  Loader a(data, all_rows(data), cpu), b(data, all_rows(data), gpu);
  for (int epoch : {0, 1}) {
    a.start_epoch(epoch);
    b.start_epoch(epoch);
    Batch x, y;
    while (a.next(&x)) {
      ASSERT_TRUE(b.next(&y));
      EXPECT_EQ(y.images.device(), Device::CUDA);
      EXPECT_EQ(x.images.to_vector(), y.images.to_vector());
      EXPECT_EQ(x.labels.to_vector(), y.labels.to_vector());
    }
    EXPECT_FALSE(b.next(&y));
  }
}

}  // namespace
}  // namespace nebula::data
