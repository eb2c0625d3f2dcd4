// Splits: counts and fractions, disjoint and deterministic for a seed, with a limit.
#include <gtest/gtest.h>

#include <set>

#include "base/error.h"
#include "data/split.h"

namespace nebula::data {
namespace {

void expect_disjoint(const Split& s, size_t rows) {
  std::set<size_t> all;
  for (auto* part : {&s.train, &s.validation, &s.test})
    for (size_t r : *part) {
      EXPECT_LT(r, rows);
      EXPECT_TRUE(all.insert(r).second) << "row " << r << " is in two parts";
    }
}

TEST(Split, TheStudysSplitIsOneCall) {
  Split s = make_split(61578, SplitSpec::counts(8000, 2000, 2000, 12000, 7));
  EXPECT_EQ(s.train.size(), 8000u);
  EXPECT_EQ(s.validation.size(), 2000u);
  EXPECT_EQ(s.test.size(), 2000u);
  expect_disjoint(s, 61578);
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
}

TEST(Split, DeterministicForASeed) {
  SplitSpec spec = SplitSpec::fractions(0.8, 0.1, 0.1, 0, 3);
  Split a = make_split(1000, spec), b = make_split(1000, spec);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.test, b.test);
  spec.seed = 4;
  Split c = make_split(1000, spec);
  EXPECT_NE(a.test, c.test);
}

TEST(Split, FractionsUseEveryRow) {
  Split s = make_split(1001, SplitSpec::fractions(0.8, 0.1, 0.1));
  EXPECT_EQ(s.validation.size(), 100u);
  EXPECT_EQ(s.test.size(), 100u);
  EXPECT_EQ(s.train.size(), 801u);
  expect_disjoint(s, 1001);
  Split partial = make_split(1000, SplitSpec::fractions(0.5, 0.1, 0.0));
  EXPECT_EQ(partial.train.size(), 500u);
  EXPECT_TRUE(partial.test.empty());
}

TEST(Split, LimitTakesASeededSubset) {
  Split s = make_split(5000, SplitSpec::fractions(0.8, 0.1, 0.1, 300, 1));
  EXPECT_EQ(s.train.size() + s.validation.size() + s.test.size(), 300u);
  expect_disjoint(s, 5000);
  EXPECT_GT(s.train.back(), 300u);  // a random subset, not the first 300 rows
}

TEST(Split, ParsesCountsAndFractions) {
  SplitSpec a = SplitSpec::parse("8000/2000/2000", 12000, 5);
  EXPECT_TRUE(a.by_count);
  EXPECT_EQ(a.train, 8000);
  EXPECT_EQ(a.limit, 12000u);
  SplitSpec b = SplitSpec::parse("0.8/0.1/0.1");
  EXPECT_FALSE(b.by_count);
  EXPECT_DOUBLE_EQ(b.validation, 0.1);
  EXPECT_THROW(SplitSpec::parse("80/20"), Error);
  EXPECT_THROW(SplitSpec::parse("a/b/c"), Error);
  EXPECT_THROW(SplitSpec::parse("1/2/3/4"), Error);
}

TEST(Split, RefusesImpossibleSplits) {
  try {
    make_split(5000, SplitSpec::counts(8000, 2000, 2000));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs 12000 rows, only 5000 available"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_split(100, SplitSpec::fractions(0.8, 0.2, 0.2)), Error);
  EXPECT_THROW(make_split(100, SplitSpec::counts(50, 50, 50, 120)), Error);
}

}  // namespace
}  // namespace nebula::data
