// report.html in a real browser: `chaosctl report` renders the committed
// fixture journal (an aborted run with two faults), headless Chromium loads
// it from a file:// URL with every network feature off, and we check the
// DOM it built and a screenshot of it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/command_runner.h"
#include "common/proc_reader.h"
#include "tests/integration/report/png_image.h"
#include "lab/testbed/safe_kill.h"

namespace chaos::testing {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr const char* kChromium = "/usr/bin/chromium";

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// Kills, by pid, any Chromium process still using our profile directory
// (renderers and zygotes can outlive a killed browser process).
void kill_leftover_chromium(const std::string& profile) {
  const ProcReader proc;
  for (int pid : proc.pids()) {
    if (proc.cmdline(pid).value_or("").find("--user-data-dir=" + profile) != std::string::npos) {
      ::chaos::test_support::safe_kill(pid, SIGKILL);
    }
  }
}

class ReportChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kChromium)) GTEST_SKIP() << kChromium << " is missing: run scripts/install-deps (it installs chromium)";
    std::string pattern = (fs::temp_directory_path() / "chaos-report-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    profile_ = dir_ + "/profile";
    // Chromium (and GTK's dconf) write crash-report and cache folders under
    // HOME/XDG dirs; point them into the temp dir so nothing is left behind.
    for (const char* name : {"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"}) {
      const char* old_value = std::getenv(name);
      saved_env_.emplace_back(name, old_value ? std::optional<std::string>(old_value) : std::nullopt);
      ::setenv(name, (dir_ + "/home").c_str(), 1);
    }
    fs::copy_file(env("CHAOS_SOURCE_DIR") + "/tests/integration/report/fixtures/aborted-run.journal.json",
                  dir_ + "/journal.json");
    ProcessCommandRunner runner;
    auto rendered = runner.run({env("CHAOS_BUILD_DIR") + "/bin/chaosctl", "report", dir_});
    ASSERT_TRUE(rendered.ok()) << rendered.status().to_string();
    ASSERT_EQ(rendered->exit_code, 0) << rendered->stderr_text;
    ASSERT_TRUE(fs::exists(dir_ + "/report.html"));
  }
  void TearDown() override {
    if (dir_.empty()) return;
    kill_leftover_chromium(profile_);
    for (const auto& [name, value] : saved_env_) {
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Chromium with nothing that could reach the network, in a throwaway
  // profile, killed if it hangs.
  CommandResult chromium(const std::vector<std::string>& action) {
    std::vector<std::string> argv = {
        kChromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
        "--disable-sync", "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check",
        "--disable-breakpad", "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + profile_,
        "--window-size=1100,2600"};
    argv.insert(argv.end(), action.begin(), action.end());
    argv.push_back("file://" + dir_ + "/report.html");
    ProcessCommandRunner runner;
    auto result = runner.run(argv, RunOptions{"", std::chrono::seconds(60)});
    kill_leftover_chromium(profile_);
    return result.ok() ? *result : CommandResult{-1, "", result.status().to_string()};
  }

  std::string dir_;
  std::string profile_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_env_;
};

TEST_F(ReportChromiumTest, DomHasChartsFaultWindowsThresholdsAndVerdict) {
  const CommandResult result = chromium({"--dump-dom"});
  ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
  const std::string& dom = result.stdout_text;
  // Three distinct queries: success ratio, p99 ack latency, lost messages.
  EXPECT_EQ(count(dom, "<svg class=\"slo-chart\""), 3u);
  // Two faults (n2 delay, n3 loss) shaded on each of the three charts.
  EXPECT_EQ(count(dom, "<rect class=\"fault-window\""), 6u);
  // ratio: >= 0.99 and the abort < 0.5; latency: < 1 and < 0.1; lost: <= 0.
  EXPECT_EQ(count(dom, "<line class=\"threshold "), 5u);
  EXPECT_EQ(count(dom, "<line class=\"threshold abort\""), 1u);
  EXPECT_GE(count(dom, "<polyline class=\"series"), 4u);  // the NaN gap splits the latency line
  EXPECT_THAT(dom, HasSubstr("<section id=\"verdict\" class=\"verdict verdict-aborted\">"));
  EXPECT_THAT(dom, HasSubstr("<div class=\"verdict-result\">aborted</div>"));
  EXPECT_THAT(dom, HasSubstr("<strong class=\"aborted-by\">publish success collapsed</strong>"));
  EXPECT_THAT(dom, HasSubstr("<h1>Latency &lt;and&gt; loss on two brokers</h1>"));
  EXPECT_EQ(count(dom, "<tr class=\"fault\">"), 2u);
  EXPECT_THAT(dom, HasSubstr("<strong>6.2 s</strong>"));
}

TEST_F(ReportChromiumTest, ScreenshotIsARealPicture) {
  const std::string png = dir_ + "/screenshot.png";
  const CommandResult result = chromium({"--screenshot=" + png, "--hide-scrollbars"});
  ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
  ASSERT_TRUE(fs::exists(png)) << result.stderr_text;
  const std::string bytes = read_file(png);
  EXPECT_GT(bytes.size(), 50'000u);
  auto image = decode_png(bytes);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->width, 1100u);
  EXPECT_EQ(image->height, 2600u);
  // Text, charts, shading and banners give hundreds of colours; a blank or
  // failed page has a handful.
  EXPECT_GT(image->distinct_colours(), 200u);
  // The aborted banner's background (#fff4e0) fills a large area.
  EXPECT_GT(image->count(0xfff4e0), 10'000u);
  // Series lines are drawn in #1f77b4.
  EXPECT_GT(image->count(0x1f77b4), 500u);
  if (!env("CHAOS_KEEP_SCREENSHOT").empty()) fs::copy_file(png, env("CHAOS_KEEP_SCREENSHOT"), fs::copy_options::overwrite_existing);
}

}  // namespace
}  // namespace chaos::testing
