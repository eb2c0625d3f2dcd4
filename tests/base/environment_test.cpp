#include "base/environment.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/error.h"

namespace nebula {
namespace {

constexpr const char* kVariable = "NEBULA_TEST_LIMIT";

TEST(PositiveWholeFromEnvironment, UnsetOrEmptyGivesTheFallback) {
  ::unsetenv(kVariable);
  EXPECT_EQ(positive_whole_from_environment(kVariable, 42, "a test limit"), 42);
  ::setenv(kVariable, "", 1);
  EXPECT_EQ(positive_whole_from_environment(kVariable, 42, "a test limit"), 42);
}

TEST(PositiveWholeFromEnvironment, AWholeNumberIsRead) {
  ::setenv(kVariable, "9000000000", 1);
  EXPECT_EQ(positive_whole_from_environment(kVariable, 42, "a test limit"), 9000000000LL);
  ::unsetenv(kVariable);
}

TEST(PositiveWholeFromEnvironment, AnythingElseIsRefusedNamingTheVariable) {
  for (const char* text : {"12abc", "0", "-3", "1e9", " 5", "99999999999999999999"}) {
    ::setenv(kVariable, text, 1);
    try {
      positive_whole_from_environment(kVariable, 42, "a test limit");
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const Error& e) {
      const std::string expected =
          std::string(kVariable) + ": '" + text + "' is not a positive whole number (it sets a test limit)";
      EXPECT_EQ(std::string(e.what()).rfind(expected, 0), 0u) << e.what();  // a debug build appends file:line
    }
  }
  ::unsetenv(kVariable);
}

}  // namespace
}  // namespace nebula
