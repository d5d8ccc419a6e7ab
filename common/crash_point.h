// Test-only crash hook: deterministic SIGKILLs at named steps of apply,
// revert and recovery, so integration tests can prove that journal recovery
// leaves nothing behind whichever step the agent died at.
//
// Every call to crash_point() is one numbered step. With the environment
// variable CHAOS_CRASH_AFTER_STEPS=N the process SIGKILLs itself at the Nth
// step (before the step's side effect). CHAOS_CRASH_STEP_LOG=FILE appends
// "N name" for every step, so a test can first count the steps of a
// scenario and then crash at each one.
//
// Compiled in only when CHAOS_CRASH_POINTS is defined (CMake option
// CHAOS_CRASH_POINTS, on in test builds); otherwise crash_point() does
// nothing and reads no environment.
#pragma once

#include <string_view>

namespace chaos {

void crash_point(std::string_view step_name);

}  // namespace chaos
