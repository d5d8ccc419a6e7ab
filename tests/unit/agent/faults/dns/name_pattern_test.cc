#include "agent/faults/dns/name_pattern.h"

#include <gtest/gtest.h>

namespace chaos::agent::dns {
namespace {

bool match(const std::string& pattern, const std::string& name) {
  auto compiled = NamePattern::compile(pattern);
  EXPECT_TRUE(compiled.ok()) << pattern;
  return compiled.ok() && compiled->matches(name);
}

TEST(NamePatternTest, ExactNamesIgnoreCaseAndTrailingDot) {
  EXPECT_TRUE(match("api.lab", "api.lab"));
  EXPECT_TRUE(match("API.Lab.", "api.lab"));
  EXPECT_TRUE(match("api.lab", "API.LAB."));
  EXPECT_FALSE(match("api.lab", "api.lab.example"));
  EXPECT_FALSE(match("api.lab", "xapi.lab"));
}

TEST(NamePatternTest, StarMatchesAnyRunQuestionMarkOneCharacter) {
  EXPECT_TRUE(match("*.lab", "nats-1.lab"));
  EXPECT_TRUE(match("*.lab", "a.b.lab"));
  EXPECT_FALSE(match("*.lab", "lab"));
  EXPECT_FALSE(match("*.lab", "nats.labs"));
  EXPECT_TRUE(match("db-?.example", "db-1.example"));
  EXPECT_FALSE(match("db-?.example", "db-12.example"));
  EXPECT_TRUE(match("*", "anything.at.all"));
  EXPECT_TRUE(match("n*s-*.lab", "nats-2.lab"));
}

TEST(NamePatternTest, HostilePatternsStayFast) {
  // Would take exponential time with naive recursive backtracking.
  const std::string name(250, 'a');
  EXPECT_FALSE(match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", name));
}

TEST(NamePatternTest, RefusesEmptyOversizedAndControlCharacters) {
  EXPECT_FALSE(NamePattern::compile("").ok());
  EXPECT_FALSE(NamePattern::compile(std::string(301, 'a')).ok());
  EXPECT_FALSE(NamePattern::compile("a b.lab").ok());
  EXPECT_FALSE(NamePattern::compile(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(NamePattern::compile("caf\xc3\xa9.lab").ok());
}

}  // namespace
}  // namespace chaos::agent::dns
