// Multi-view model files: the built-in dieleman and cnn2-views models have the
// published shapes, their answers obey the tree, a dihedral model merged by
// the mean answers a turned galaxy as it answers the galaxy, and a bad views
// line is refused with its file, line and problem.
#include <gtest/gtest.h>

#include "base/error.h"
#include "base/random.h"
#include "data/dihedral.h"
#include "data/galaxy_tree.h"
#include "engine/autograd.h"
#include "models/model_file.h"

namespace nebula {
namespace {

Tensor random_images(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  std::vector<float> v(numel(shape));
  for (float& x : v) x = g.uniform(0.0f, 1.0f);
  return Tensor::from_vector(shape, v);
}

TEST(MultiViewModel, DielemanHasThePublishedShapes) {
  Model model = load_model("dieleman", 37);
  EXPECT_EQ(model.spec.crop, 207);
  EXPECT_EQ(model.spec.height, 69);
  EXPECT_EQ(model.network->output_shape(model.input_shape(3)), (Shape{3, 37}));
  // 45 -> 40 -> 20 -> 16 -> 8 -> 6 -> 4 -> 2: 128 x 2 x 2 = 512 features a view, 16 views concatenated;
  // each maxout layer 4096 linear units in pairs. About 42 million, as the paper says.
  const int64_t convs = (32 * 3 * 36 + 32) + (64 * 32 * 25 + 64) + (128 * 64 * 9 + 128) + (128 * 128 * 9 + 128);
  const int64_t dense = (8192 * 4096 + 4096) + (2048 * 4096 + 4096) + (2048 * 37 + 37);
  EXPECT_EQ(model.network->parameter_count(), convs + dense);
  EXPECT_EQ(model.spec.parameters, convs + dense);
}

TEST(MultiViewModel, Cnn2ViewsAnswersObeyTheTree) {
  manual_seed(4);
  Model model = load_model("cnn2-views", 37);
  EXPECT_EQ(model.network->parameter_count(), (16 * 3 * 36 + 16) + (32 * 16 * 25 + 32) + (64 * 32 * 9 + 64) +
                                                  (64 * 64 * 9 + 64) + (4096 * 512 + 512) + (256 * 37 + 37));
  model.network->eval();
  NoGradGuard no_grad;
  const std::vector<float> y = (*model.network)(Variable(random_images(model.input_shape(2), 5))).value().to_vector();
  ASSERT_EQ(y.size(), 2u * 37);
  for (int n = 0; n < 2; ++n) EXPECT_NEAR(y[n * 37] + y[n * 37 + 1] + y[n * 37 + 2], 1.0f, 1e-6f) << n;
}

// Galaxies have no "up": the mean over all eight dihedral views of a galaxy is
// the mean over the views of any of its turns or flips (the same views, in
// another order, so equal to float rounding).
TEST(MultiViewModel, DihedralViewsMergedByTheMeanAreInvariant) {
  manual_seed(6);
  Model model = parse_model(
      "input 3 12 12\nviews dihedral\nconv 4 3 relu\nmaxpool 2\nflatten\nmerge mean\ndense 5 relu\ndense outputs\n",
      "invariant.model", 3);
  model.network->eval();
  NoGradGuard no_grad;
  const Tensor x = random_images(model.input_shape(2), 7);
  const std::vector<float> y = (*model.network)(Variable(x)).value().to_vector();
  for (int view = 1; view < data::kDihedralViews; ++view) {
    const std::vector<float> turned = (*model.network)(Variable(data::dihedral_view(x, view))).value().to_vector();
    ASSERT_EQ(turned.size(), y.size());
    for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(turned[i], y[i], 1e-5f) << "view " << view << " at " << i;
  }
}

std::string error_of(const std::string& text) {
  try {
    parse_model(text, "my.model", 37);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_error(const std::string& text, const std::string& expected) {
  const std::string message = error_of(text);
  EXPECT_NE(message.find(expected), std::string::npos) << "expected '" << expected << "', got '" << message << "'";
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
}

TEST(MultiViewModel, BadViewLinesAreRefusedWithTheLine) {
  expect_error("input 3 8 8\nviews dihedral\ngap\ndense outputs\n",
               "my.model:2: views: the views are never merged (add 'merge concat' or 'merge mean'");
  expect_error("input 3 8 8\nviews octagonal\n", "my.model:2: views: kind must be rotations, dihedral or dieleman");
  expect_error("input 3 8 6\nviews dihedral\n", "my.model:2: views: views need a square image, got 8x6");
  expect_error("input 3 8 8\nviews dihedral size=9\n", "my.model:2: views: a view of 9x9 does not fit in the 8x8");
  expect_error("input 3 8 8\nviews rotations\nviews dihedral\n",
               "my.model:3: views: the images are already cut into 4 views");
  expect_error("input 3 8 8\ngap\nmerge concat\n", "my.model:3: merge: there are no views to merge");
  expect_error("input 3 8 8\nviews dihedral\nmerge mean\n",
               "my.model:3: merge: needs flat features [views, features], got [8, 3, 8, 8]");
  expect_error("input 3 8 8\nviews dihedral\ngap\nmerge max\n", "my.model:4: merge: how must be 'concat' or 'mean'");
  expect_error("input 3 8 8\ngap\nmaxout 2\n", "my.model:3: maxout: the 3 features do not split into groups of 2");
  expect_error("input 3 8 8\ngap\ndense 4 maxout=0\n", "my.model:3: dense: maxout must be an integer of at least 1");
  EXPECT_EQ(error_of("input 3 8 8\nviews dieleman\ngap\nmerge concat\ndense 4 maxout=3 relu\ndense outputs "
                     "galaxytree\n"),
            "");
}

}  // namespace
}  // namespace nebula
