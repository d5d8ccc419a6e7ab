#include "orchestrator/run/interrupt_watcher.h"

#include <csignal>
#include <ctime>
#include <iostream>

namespace chaos::orchestrator {

namespace {

sigset_t termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // The terminal or SSH session went away: the run must still revert.
  sigaddset(&signals, SIGHUP);
  return signals;
}

}  // namespace

InterruptWatcher::InterruptWatcher(Clock& clock) : clock_(clock) {
  const sigset_t signals = termination_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  thread_ = std::thread([this] { watch(); });
}

InterruptWatcher::~InterruptWatcher() {
  stop_ = true;
  thread_.join();
}

void InterruptWatcher::watch() {
  const sigset_t signals = termination_signals();
  const timespec slice{0, 200'000'000};
  while (!stop_) {
    const int received = sigtimedwait(&signals, nullptr, &slice);
    if (received != SIGINT && received != SIGTERM && received != SIGHUP) continue;
    if (interrupted_.exchange(true)) {
      std::cerr << "\nchaosctl: still reverting faults; waiting for every agent to confirm\n";
    } else {
      std::cerr << "\nchaosctl: interrupted; reverting every fault\n";
    }
    clock_.wake_all();
  }
}

}  // namespace chaos::orchestrator
