// Linked into the test binaries that run several tests in one process
// (tests/CMakeLists.txt: a unit test suite, or a ONE_PROCESS binary). ctest's
// SKIP_REGULAR_EXPRESSION wins over a failing exit code, so gtest's own
// "[  SKIPPED ]" lines cannot be the pattern (one skipped test would hide
// another's failure); this listener prints kSkippedMarker only when nothing
// failed, something skipped, and no memory leaked (LeakSanitizer's own check
// runs after this, at exit, and its failure would be hidden by the marker).
// A run in which no test ran at all fails: a filter that matches nothing
// (gtest 1.12 has no --gtest_fail_if_no_test_run) has tested nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

// LeakSanitizer's interface, present when the binary is built with it.
extern "C" int __lsan_do_recoverable_leak_check() __attribute__((weak));

namespace chaos::test_support {
namespace {

class SkippedTestsMarker : public ::testing::EmptyTestEventListener {
 public:
  void OnTestProgramEnd(const ::testing::UnitTest& unit_test) override {
    if (unit_test.test_to_run_count() == 0) {
      std::cout << "CHAOS-TESTS-NONE-RAN: no test matched the filter" << std::endl;
      std::_Exit(1);
    }
    if (!unit_test.Passed() || unit_test.skipped_test_count() == 0) return;
    // Memory unreachable now stays unreachable: the check at exit fails too.
    if (__lsan_do_recoverable_leak_check != nullptr && __lsan_do_recoverable_leak_check() != 0) return;
    std::cout << "CHAOS-TESTS-SKIPPED: " << unit_test.skipped_test_count() << " of "
              << unit_test.test_to_run_count() << " tests skipped" << std::endl;
  }
};

// gtest_main's main() runs after static initialisation: registering here
// needs no main() of our own. gtest owns and deletes the listener.
[[maybe_unused]] const bool registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new SkippedTestsMarker);
  return true;
}();

}  // namespace
}  // namespace chaos::test_support
