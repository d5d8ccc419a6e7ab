#include "agent/startup_memory.h"

#include <gtest/gtest.h>

#include <string>

namespace chaos::agent {
namespace {

std::string record(const std::string& header, const std::string& rss, const std::string& anonymous) {
  std::string text = header + "\nSize:                 64 kB\n";
  if (!rss.empty()) text += "Rss:            " + rss + " kB\n";
  if (!anonymous.empty()) text += "Anonymous:      " + anonymous + " kB\n";
  return text + "VmFlags: rd ex mr mw me sd\n";
}

TEST(StartupMemory, DropsOnlyResidentReadOnlyPrivateFilePagesWithNothingCopied) {
  const std::string smaps =
      record("7f0000000000-7f0000010000 r-xp 00001000 08:01 42    /usr/lib/libgrpc.so.29", "24", "0") +
      record("7f0000010000-7f0000020000 r--p 00011000 08:01 42    /usr/lib/libgrpc.so.29", "8", "0") +
      // RELRO after relocation: read-only now, but its pages are private copies.
      record("7f0000020000-7f0000030000 r--p 00021000 08:01 42    /usr/lib/libgrpc.so.29", "8", "8") +
      record("7f0000030000-7f0000040000 rw-p 00031000 08:01 42    /usr/lib/libgrpc.so.29", "4", "0") +
      record("7f0000040000-7f0000050000 r--s 00000000 08:01 43    /dev/shm/shared", "4", "0") +
      record("7f0000050000-7f0000060000 r--p 00000000 00:00 0 ", "4", "0") +
      record("7fff00000000-7fff00002000 r-xp 00000000 00:00 0     [vdso]", "8", "0") +
      record("7f0000060000-7f0000070000 r-xp 00000000 08:01 44    /usr/lib/not resident.so", "0", "0") +
      record("7f0000070000-7f0000080000 r-xp 00000000 08:01 45    /usr/lib/no anonymous line.so", "4", "") +
      record("7f0000080000-7f0000090000 r-xp 00000000 08:01 46    /opt/a path with spaces/lib.so", "4", "0");
  const std::vector<AddressRange> expected = {{0x7f0000000000, 0x7f0000010000},
                                              {0x7f0000010000, 0x7f0000020000},
                                              {0x7f0000080000, 0x7f0000090000}};
  EXPECT_EQ(droppable_file_ranges(smaps), expected);
}

TEST(StartupMemory, MalformedTextDropsNothing) {
  EXPECT_TRUE(droppable_file_ranges("").empty());
  EXPECT_TRUE(droppable_file_ranges("garbage line\nRss: 4 kB\nAnonymous: 0 kB\n").empty());
  EXPECT_TRUE(droppable_file_ranges(record("7f01-7f00 r-xp 0 08:01 1 /lib/x.so", "4", "0")).empty())
      << "end before start";
}

// Code, constants and relocated data all still read right after the
// release, in this very process.
const std::string& constant_text() {
  static const std::string text = "still here";
  return text;
}

TEST(StartupMemory, ReleasingKeepsTheProcessWorking) {
  const auto released = release_startup_memory();
  ASSERT_TRUE(released.ok()) << released.status().to_string();
  EXPECT_GT(released->ranges, 0u) << "the test binary maps its own code and libraries";
  EXPECT_EQ(constant_text(), "still here");
  EXPECT_EQ(std::to_string(42), "42");
}

}  // namespace
}  // namespace chaos::agent
