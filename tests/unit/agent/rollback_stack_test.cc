#include "agent/rollback_stack.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace chaos::agent {
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

TEST(RollbackStackTest, StepsThatFailAsItIsDestroyedGoToTheStackItNamesInTheirOrder) {
  bool rule_stuck = true;
  std::vector<std::string> ran;
  RollbackStack unfinished;
  {
    RollbackStack stack(&unfinished);
    stack.push_last_to_undo("reservation", [&] {
      ran.push_back("reservation");
      return Status{};
    });
    stack.push("engine", [&] {
      ran.push_back("engine");
      return Status{};
    });
    stack.push("rule", [&] { return rule_stuck ? internal_error("chain busy") : Status{}; });
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"engine"}));
  EXPECT_EQ(unfinished.pending(), "reservation, rule");
  rule_stuck = false;
  EXPECT_TRUE(unfinished.unwind().ok());
  EXPECT_EQ(ran, (std::vector<std::string>{"engine", "reservation"}));
  EXPECT_TRUE(unfinished.empty());
}

TEST(RollbackStackTest, AStackMovedOutOfTheApplyNoLongerHandsItsFailedStepsOn) {
  RollbackStack unfinished;
  {
    RollbackStack stack(&unfinished);
    stack.push("rule", [] { return internal_error("chain busy"); });
    RollbackStack kept_by_the_live_fault(std::move(stack));
    EXPECT_TRUE(stack.empty());
    EXPECT_EQ(kept_by_the_live_fault.pending(), "rule");
  }
  EXPECT_TRUE(unfinished.empty()) << "the live fault's stack outlives the apply that named the place";
}

TEST(RollbackStackTest, ReportsEveryFailedStepWithTheFirstFailuresCode) {
  RollbackStack stack;
  stack.push("engine", [] { return internal_error("engine wedged"); });
  stack.push("table", [] { return Status{}; });
  stack.push("rule", [] { return permission_denied("no CAP_NET_ADMIN"); });

  const Status status = stack.unwind();
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "undoing rule: no CAP_NET_ADMIN; undoing engine: engine wedged");
  stack.release();
}

TEST(RollbackStackTest, AThrowingStepCountsAsFailedAndTheRestStillRun) {
  std::vector<std::string> ran;
  bool throws = true;
  {
    RollbackStack stack;
    stack.push("first", [&] { ran.push_back("first"); return Status{}; });
    stack.push("flaky", [&]() -> Status {
      ran.push_back("flaky");
      if (throws) throw std::runtime_error("bad_alloc in disguise");
      return Status{};
    });
    const Status status = stack.unwind();
    EXPECT_EQ(status.code(), StatusCode::kInternal);
    EXPECT_EQ(status.message(), "undoing flaky: threw: bad_alloc in disguise");
    EXPECT_EQ(ran, (std::vector<std::string>{"flaky", "first"}));
    EXPECT_FALSE(stack.empty()) << "the throwing step stays for a retry";
    ran.clear();
    // The destructor retries it and must not let an exception escape.
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"flaky"}));
}

TEST(RollbackStackTest, ReleasedStepsNeverRun) {
  int undone = 0;
  {
    RollbackStack stack;
    stack.push("claim", [&] { ++undone; return Status{}; });
    stack.release();
    EXPECT_TRUE(stack.empty());
  }
  EXPECT_EQ(undone, 0);
}

}  // namespace
}  // namespace chaos::agent
