#include "agent/process_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace chaos::agent {
namespace {

TEST(ParseProcStat, HandlesCommWithSpacesAndParentheses) {
  const std::string stat =
      "4242 (we ird) (x) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 200 18446744073709551615";
  auto fields = parse_proc_stat(stat);
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->comm, "we ird) (x");
  EXPECT_EQ(fields->state, 'S');
  EXPECT_EQ(fields->ppid, 17);
  EXPECT_EQ(fields->flags, 4194560u);
  EXPECT_EQ(fields->start_time, 98765u);
}

TEST(ParseProcStat, RefusesGarbage) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2"));
  EXPECT_FALSE(parse_proc_stat("12 x) S"));
}

TEST(ProcProcessTable, SeesThisProcess) {
  ProcProcessTable table;
  auto self = table.get(::getpid());
  ASSERT_TRUE(self);
  EXPECT_EQ(self->ppid, ::getppid());
  EXPECT_NE(self->start_time, 0u);
  EXPECT_FALSE(self->kernel_thread);
  EXPECT_NE(self->cmdline.find("agent_unit_tests"), std::string::npos) << self->cmdline;
  EXPECT_EQ(self->netns_inode, table.self_netns_inode());
  bool listed = false;
  for (const auto& process : table.list()) listed = listed || process.pid == ::getpid();
  EXPECT_TRUE(listed);
  EXPECT_EQ(table.self_pid(), ::getpid());
  EXPECT_EQ(table.parent_pid(), ::getppid());
}

TEST(ProcProcessTable, SignalToARecycledOrMissingPidIsNotFound) {
  ProcProcessTable table;
  auto self = table.get(::getpid());
  ASSERT_TRUE(self);
  // Signal 0 checks deliverability without sending anything.
  EXPECT_TRUE(table.send_signal(::getpid(), self->start_time, 0).ok());
  EXPECT_EQ(table.send_signal(::getpid(), self->start_time + 1, 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(table.send_signal(999999999, 1, 0).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace chaos::agent
