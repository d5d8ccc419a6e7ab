#include "common/bounded_regex.h"

#include <gtest/gtest.h>

#include <string>

namespace chaos {
namespace {

TEST(BoundedRegex, SearchesRatherThanMatchingTheWholeText) {
  auto regex = BoundedRegex::compile("n[12]\\.conf");
  ASSERT_TRUE(regex.ok()) << regex.status().to_string();
  EXPECT_TRUE(regex->found_in("nats-server -c /lab/n1.conf --x"));
  EXPECT_FALSE(regex->found_in("nats-server -c /lab/n3.conf"));
  EXPECT_EQ(regex->pattern(), "n[12]\\.conf");
  auto anchored = BoundedRegex::compile("^sshd$");
  ASSERT_TRUE(anchored.ok());
  EXPECT_TRUE(anchored->found_in("sshd"));
  EXPECT_FALSE(anchored->found_in("sshd: user"));
}

TEST(BoundedRegex, InvalidPatternsCarryRe2sReason) {
  EXPECT_EQ(BoundedRegex::compile("a(").status().message(), "invalid regex: missing ): a(");
  // ECMAScript features RE2 does not have (they need backtracking).
  EXPECT_EQ(BoundedRegex::compile("(a)\\1").status().message().rfind("invalid regex: invalid escape sequence", 0), 0u);
  EXPECT_EQ(BoundedRegex::compile("a(?=b)").status().message().rfind("invalid regex: invalid perl operator", 0), 0u);
  EXPECT_EQ(BoundedRegex::compile("a(").status().code(), StatusCode::kInvalidArgument);
}

TEST(BoundedRegex, PatternLengthIsCapped) {
  EXPECT_TRUE(BoundedRegex::compile(std::string(BoundedRegex::kMaxPatternBytes, 'a')).ok());
  EXPECT_EQ(BoundedRegex::compile(std::string(BoundedRegex::kMaxPatternBytes + 1, 'a')).status().message(),
            "longer than 1024 bytes");
}

TEST(BoundedRegex, PatternsThatWouldBacktrackForeverAnswerOnHugeTexts) {
  // Exponential or deeply recursive for a backtracking engine (std::regex
  // overflows its stack on these); linear for RE2.
  const std::string text = "victim-" + std::string(100 * 1024, 'a');
  for (const char* pattern : {"victim-(a|b)*x", "(a*)*b", "victim-(a|aa)*x", "(a|a)*x"}) {
    auto regex = BoundedRegex::compile(pattern);
    ASSERT_TRUE(regex.ok()) << pattern << ": " << regex.status().to_string();
    EXPECT_FALSE(regex->found_in(text)) << pattern;
  }
  auto matching = BoundedRegex::compile("victim-(a|aa)*$");
  ASSERT_TRUE(matching.ok());
  EXPECT_TRUE(matching->found_in(text));
}

}  // namespace
}  // namespace chaos
