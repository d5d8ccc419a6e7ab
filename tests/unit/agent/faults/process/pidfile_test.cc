#include "agent/faults/process/pidfile.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chaos::agent {
namespace {

TEST(ParsePidfileText, AcceptsOnePidWithBlanksAround) {
  EXPECT_EQ(*parse_pidfile_text("412\n", "f"), 412);
  EXPECT_EQ(*parse_pidfile_text("412", "f"), 412);
  EXPECT_EQ(*parse_pidfile_text("       412\r\n", "f"), 412);
  EXPECT_EQ(*parse_pidfile_text("4194304\n", "f"), 4194304) << "the kernel's largest pid";
}

TEST(ParsePidfileText, RefusesAnythingElse) {
  const std::vector<std::string> texts = {"",       "\n",       "0\n",      "-5\n",      "+5\n",
                                         "0x10\n", "012\n",    "12 13\n",  "12\n13\n", "4194305\n",
                                         "12abc\n", "99999999999999999999\n", std::string("12\0", 3)};
  for (const std::string& text : texts) {
    const auto parsed = parse_pidfile_text(text, "process_kill.target.pidfile: '/run/x.pid'");
    EXPECT_EQ(parsed.status().code(), StatusCode::kFailedPrecondition) << text;
    EXPECT_EQ(parsed.status().message(), "process_kill.target.pidfile: '/run/x.pid' does not hold a pid") << text;
  }
}

TEST(ValidatePidfilePath, NeedsNoSystemAccess) {
  EXPECT_TRUE(validate_pidfile_path("/nonexistent/dir/x.pid", "p").ok()) << "existence is checked at apply";
  EXPECT_EQ(validate_pidfile_path("", "p").message(), "p: must be an absolute path");
  EXPECT_EQ(validate_pidfile_path("run/x.pid", "p").message(), "p: must be an absolute path");
  EXPECT_EQ(validate_pidfile_path(std::string("/run/x\0y", 8), "p").message(), "p: contains a NUL byte");
  EXPECT_TRUE(validate_pidfile_path("/" + std::string(kMaxPidfilePathBytes - 1, 'a'), "p").ok());
  EXPECT_EQ(validate_pidfile_path("/" + std::string(kMaxPidfilePathBytes, 'a'), "p").message(),
            "p: longer than 4095 bytes");
}

}  // namespace
}  // namespace chaos::agent
