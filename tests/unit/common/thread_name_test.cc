// set_current_thread_name: what /proc shows for the thread, cut at 15 bytes.
#include "common/thread_name.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace chaos {
namespace {

std::string thread_name_test_comm_of_this_thread() {
  std::string name;
  std::getline(std::ifstream("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm"), name);
  return name;
}

TEST(ThreadNameTest, NamesTheCallingThreadOnly) {
  const std::string main_name = thread_name_test_comm_of_this_thread();
  std::string seen;
  std::thread([&] {
    set_current_thread_name("chaos-nfq-31200");
    seen = thread_name_test_comm_of_this_thread();
  }).join();
  EXPECT_EQ(seen, "chaos-nfq-31200");
  EXPECT_EQ(thread_name_test_comm_of_this_thread(), main_name);
}

TEST(ThreadNameTest, LongNamesAreCutAtFifteenBytes) {
  std::string seen;
  std::thread([&] {
    set_current_thread_name("chaos-dns-listener-and-more");
    seen = thread_name_test_comm_of_this_thread();
  }).join();
  EXPECT_EQ(seen, "chaos-dns-liste");
}

}  // namespace
}  // namespace chaos
