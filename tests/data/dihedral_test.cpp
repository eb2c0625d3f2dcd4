// The eight views of a square image: identity, quarter turns counter-clockwise,
// and their left-right flips, each a permutation of the pixels.
#include "data/dihedral.h"

#include <gtest/gtest.h>

#include <set>

#include "base/error.h"
#include "engine/view_layers.h"

namespace nebula::data {
namespace {

// 2 images x 3 channels of 5 x 5, every value distinct.
Tensor numbered() {
  std::vector<float> v(2 * 3 * 5 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i);
  return Tensor::from_vector({2, 3, 5, 5}, v);
}

float at(const Tensor& t, int n, int c, int y, int x) { return t.to_vector()[((n * 3 + c) * 5 + y) * 5 + x]; }

TEST(Dihedral, AQuarterTurnMovesTheTopRightCornerToTheTopLeft) {
  const Tensor in = numbered();
  const Tensor turned = dihedral_view(in, 1);
  EXPECT_EQ(at(turned, 0, 0, 0, 0), at(in, 0, 0, 0, 4));
  EXPECT_EQ(at(turned, 1, 2, 4, 0), at(in, 1, 2, 0, 0));  // top-left goes to bottom-left
  EXPECT_EQ(at(turned, 1, 2, 2, 2), at(in, 1, 2, 2, 2));  // the centre stays
  const Tensor flipped = dihedral_view(in, 4);
  EXPECT_EQ(at(flipped, 0, 1, 3, 0), at(in, 0, 1, 3, 4));
  // View 5: a quarter turn, then the flip.
  EXPECT_EQ(dihedral_view(in, 5).to_vector(), dihedral_view(dihedral_view(in, 1), 4).to_vector());
}

TEST(Dihedral, TheViewsFormTheGroupOfTheSquare) {
  const Tensor in = numbered();
  EXPECT_EQ(dihedral_view(in, 0).to_vector(), in.to_vector());
  Tensor four = in;
  for (int i = 0; i < 4; ++i) four = dihedral_view(four, 1);
  EXPECT_EQ(four.to_vector(), in.to_vector());
  EXPECT_EQ(dihedral_view(dihedral_view(in, 4), 4).to_vector(), in.to_vector());
  EXPECT_EQ(dihedral_view(dihedral_view(in, 1), 1).to_vector(), dihedral_view(in, 2).to_vector());
  std::set<std::vector<float>> distinct;
  for (int v = 0; v < kDihedralViews; ++v) {
    std::vector<float> values = dihedral_view(in, v).to_vector();
    std::multiset<float> a(values.begin(), values.end());
    std::vector<float> original = in.to_vector();
    EXPECT_EQ(a, std::multiset<float>(original.begin(), original.end())) << "view " << v << " is no permutation";
    distinct.insert(values);
  }
  EXPECT_EQ(distinct.size(), 8u);
}

// The model's dihedral views (engine/view_layers.h) are these views, in this order.
TEST(Dihedral, TheModelsViewsAreTheseViews) {
  const Tensor in = numbered();
  Views views(ViewKind::Dihedral, 5, 5);
  const std::vector<float> all = views(Variable(in)).value().to_vector();
  const size_t per_view = size_t(in.numel());
  for (int v = 0; v < kDihedralViews; ++v)
    EXPECT_EQ(std::vector<float>(all.begin() + v * per_view, all.begin() + (v + 1) * per_view),
              dihedral_view(in, v).to_vector())
        << "view " << v;
}

TEST(Dihedral, BadViewsAndShapesAreRefused) {
  EXPECT_THROW(dihedral_view(numbered(), 8), Error);
  EXPECT_THROW(dihedral_view(Tensor::zeros({2, 3, 4, 5}), 1), Error);
}

}  // namespace
}  // namespace nebula::data
