#include "bench/support/child_process.h"

#include <signal.h>

#include <boost/process.hpp>
#include <stdexcept>

namespace chaos::bench {

namespace bp = boost::process;

struct ChildProcess::State {
  bp::child child;
};

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) throw std::runtime_error("ChildProcess: empty argv");
  auto executable = argv[0].find('/') == std::string::npos ? bp::search_path(argv[0]) : boost::filesystem::path(argv[0]);
  if (executable.empty()) throw std::runtime_error("ChildProcess: " + argv[0] + " not found in PATH");
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  std::error_code error;
  state_ = std::make_unique<State>(
      State{bp::child(executable, bp::args(args), bp::std_in < bp::null, (bp::std_out & bp::std_err) > log_path,
                      error)});
  if (error) throw std::runtime_error("starting " + argv[0] + ": " + error.message());
}

ChildProcess::~ChildProcess() { stop(); }

int ChildProcess::pid() const { return state_->child.id(); }

bool ChildProcess::running() {
  std::error_code ignored;
  return state_->child.running(ignored);
}

void ChildProcess::request_stop() {
  std::error_code ignored;
  if (!state_ || !state_->child.valid() || !state_->child.running(ignored)) return;
  ::kill(state_->child.id(), SIGCONT);  // a paused target must see SIGTERM
  ::kill(state_->child.id(), SIGTERM);
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (!state_ || !state_->child.valid()) return;
  std::error_code ignored;
  if (state_->child.running(ignored)) {
    request_stop();
    if (!state_->child.wait_for(grace, ignored)) state_->child.terminate(ignored);
  }
  state_->child.wait(ignored);
  state_.reset();
}

}  // namespace chaos::bench
