#include "common/crash_point.h"

#ifdef CHAOS_CRASH_POINTS
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#endif

namespace chaos {

#ifdef CHAOS_CRASH_POINTS

namespace {

long crash_step_from_environment() {
  const char* text = std::getenv("CHAOS_CRASH_AFTER_STEPS");
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  return (end != nullptr && *end == '\0' && value > 0) ? value : 0;
}

void log_step(long step, std::string_view name) {
  static const char* const path = std::getenv("CHAOS_CRASH_STEP_LOG");
  if (path == nullptr || *path == '\0') return;
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const std::string line = std::to_string(step) + " " + std::string(name) + "\n";
  // One write() of a short line with O_APPEND: lines of concurrent steps do
  // not interleave.
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

}  // namespace

void crash_point(std::string_view step_name) {
  static const long crash_at = crash_step_from_environment();
  static std::atomic<long> steps{0};
  const long step = ++steps;
  log_step(step, step_name);
  if (crash_at > 0 && step == crash_at) ::kill(::getpid(), SIGKILL);
}

#else

void crash_point(std::string_view) {}

#endif

}  // namespace chaos
