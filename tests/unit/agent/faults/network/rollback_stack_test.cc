#include "agent/faults/network/rollback_stack.h"

#include <gtest/gtest.h>

namespace chaos::agent::network {
namespace {

TEST(RollbackStackTest, UnwindsInReverseOrderAndKeepsFailedStepsForARetry) {
  std::vector<std::string> ran;
  bool rule_stuck = true;
  RollbackStack stack;
  stack.push("engine", [&] { ran.push_back("engine"); return Status{}; });
  stack.push("rule", [&] {
    ran.push_back("rule");
    return rule_stuck ? internal_error("chain busy") : Status{};
  });
  stack.push("table", [&] { ran.push_back("table"); return Status{}; });

  const Status first = stack.unwind();
  EXPECT_EQ(first.message(), "undoing rule: chain busy");
  EXPECT_EQ(ran, (std::vector<std::string>{"table", "rule", "engine"}));  // one failure does not stop the rest
  EXPECT_FALSE(stack.empty());

  rule_stuck = false;
  ran.clear();
  EXPECT_TRUE(stack.unwind().ok());
  EXPECT_EQ(ran, (std::vector<std::string>{"rule"}));
  EXPECT_TRUE(stack.empty());
}

TEST(RollbackStackTest, LastToUndoStepWaitsUntilEveryLaterStepIsUndone) {
  bool rule_stuck = true;
  bool released = false;
  RollbackStack stack;
  stack.push_last_to_undo("reservation", [&] {
    released = true;
    return Status{};
  });
  stack.push("rule", [&] { return rule_stuck ? internal_error("chain busy") : Status{}; });
  EXPECT_FALSE(stack.unwind().ok());
  EXPECT_FALSE(released) << "the rule still steers packets";
  rule_stuck = false;
  EXPECT_TRUE(stack.unwind().ok());
  EXPECT_TRUE(released);
  EXPECT_TRUE(stack.empty());
}

TEST(RollbackStackTest, DestructionUnwindsWhatWasNotReverted) {
  int undone = 0;
  {
    RollbackStack stack;
    stack.push("step", [&] { ++undone; return Status{}; });
  }
  EXPECT_EQ(undone, 1);
}

}  // namespace
}  // namespace chaos::agent::network
