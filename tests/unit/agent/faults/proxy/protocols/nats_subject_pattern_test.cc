#include "agent/faults/proxy/protocols/nats_subject_pattern.h"

#include <gtest/gtest.h>

namespace chaos::agent::proxy {
namespace {

bool subject_match(const std::string& pattern, const std::string& subject) {
  auto compiled = NatsSubjectPattern::compile(pattern);
  EXPECT_TRUE(compiled.ok()) << compiled.status().to_string();
  return compiled.ok() && compiled->matches(subject);
}

TEST(NatsSubjectPatternTest, LiteralMatchesOnlyTheSameSubject) {
  EXPECT_TRUE(subject_match("orders.new", "orders.new"));
  EXPECT_FALSE(subject_match("orders.new", "orders.new.eu"));
  EXPECT_FALSE(subject_match("orders.new", "orders"));
  EXPECT_FALSE(subject_match("orders.new", "Orders.new"));  // subjects are case-sensitive
}

TEST(NatsSubjectPatternTest, StarMatchesExactlyOneToken) {
  EXPECT_TRUE(subject_match("orders.*.eu", "orders.new.eu"));
  EXPECT_FALSE(subject_match("orders.*.eu", "orders.eu"));
  EXPECT_FALSE(subject_match("orders.*.eu", "orders.a.b.eu"));
  EXPECT_TRUE(subject_match("*", "x"));
  EXPECT_FALSE(subject_match("*", "x.y"));
}

TEST(NatsSubjectPatternTest, GreaterThanMatchesOneOrMoreTrailingTokens) {
  EXPECT_TRUE(subject_match("$JS.API.>", "$JS.API.STREAM.INFO.orders"));
  EXPECT_TRUE(subject_match("_INBOX.>", "_INBOX.abc"));
  EXPECT_FALSE(subject_match("_INBOX.>", "_INBOX"));
  EXPECT_TRUE(subject_match(">", "anything.at.all"));
  EXPECT_FALSE(subject_match("a.>", "a..b"));
}

TEST(NatsSubjectPatternTest, InvalidSubjectsNeverMatch) {
  EXPECT_FALSE(subject_match("*.b", ".b"));
  EXPECT_FALSE(subject_match("a.*", "a."));
  EXPECT_FALSE(subject_match(">", ""));
  EXPECT_FALSE(subject_match("a.>", "a.b c"));
}

TEST(NatsSubjectPatternTest, CompileRejectsMalformedPatterns) {
  for (const char* bad : {"", "a..b", ".a", "a.", "a.>.b", "orders*", "a b", "a.>x"}) {
    EXPECT_FALSE(NatsSubjectPattern::compile(bad).ok()) << bad;
  }
  EXPECT_FALSE(NatsSubjectPattern::compile(std::string(kNatsSubjectPatternMaxLength + 1, 'a')).ok());
}

}  // namespace
}  // namespace chaos::agent::proxy
