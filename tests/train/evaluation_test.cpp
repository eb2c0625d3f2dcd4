// The figures train and predict report: the per-question RMSE is each
// question's own (over its samples x its columns), the overall one over every
// value, and the mean predictor predicts the training rows' column means.
#include "train/evaluation.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nebula {
namespace {

TEST(QuestionRmse, EachQuestionOverItsOwnSamplesAndColumns) {
  // Two samples; Q1's three columns off by 0.3 everywhere, Q6's two by 0.1 and 0.5.
  const std::vector<std::string> columns = {"Class1.1", "Class1.2", "Class1.3", "Class6.1", "Class6.2"};
  RmseMeter meter;
  meter.add(Tensor::from_vector({2, 5}, {0.3f, 0.3f, 0.3f, 0.1f, 0.5f, 0.3f, 0.3f, 0.3f, 0.1f, 0.5f}),
            Tensor::zeros({2, 5}));
  const auto per_question = question_rmse(meter, columns);
  ASSERT_EQ(per_question.size(), 2u);
  EXPECT_EQ(per_question[0].first, "Q1");
  EXPECT_NEAR(per_question[0].second, 0.3, 1e-7);
  EXPECT_EQ(per_question[1].first, "Q6");
  EXPECT_NEAR(per_question[1].second, std::sqrt((0.01 + 0.25) / 2), 1e-7);
  EXPECT_NEAR(meter.rmse(), std::sqrt((6 * 0.09 + 2 * 0.01 + 2 * 0.25) / 10), 1e-7);
}

}  // namespace
}  // namespace nebula
