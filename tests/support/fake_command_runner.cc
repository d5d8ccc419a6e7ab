#include "tests/support/fake_command_runner.h"

namespace chaos::testing {

StatusOr<CommandResult> FakeCommandRunner::run(const std::vector<std::string>& argv,
                                               const RunOptions& options) {
  InputResponder responder;
  {
    std::lock_guard lock(mutex_);
    calls_.push_back(argv);
    stdin_texts_.push_back(options.stdin_text);
    const std::string line = describe_argv(argv);
    for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
      if (line.find(it->first) != std::string::npos) {
        responder = it->second;
        break;
      }
    }
  }
  if (responder) return responder(argv, options.stdin_text);
  return CommandResult{};
}

void FakeCommandRunner::on(std::string needle, Responder responder) {
  on_input(std::move(needle), [responder = std::move(responder)](const std::vector<std::string>& argv,
                                                                 const std::string&) { return responder(argv); });
}

void FakeCommandRunner::on_input(std::string needle, InputResponder responder) {
  std::lock_guard lock(mutex_);
  rules_.emplace_back(std::move(needle), std::move(responder));
}

void FakeCommandRunner::fail_on(std::string needle, std::string stderr_text) {
  on(std::move(needle), [stderr_text](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{1, "", stderr_text};
  });
}

std::vector<std::vector<std::string>> FakeCommandRunner::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::vector<std::string> FakeCommandRunner::stdin_texts() const {
  std::lock_guard lock(mutex_);
  return stdin_texts_;
}

std::vector<std::string> FakeCommandRunner::call_lines() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> lines;
  for (const auto& call : calls_) lines.push_back(describe_argv(call));
  return lines;
}

void FakeCommandRunner::clear() {
  std::lock_guard lock(mutex_);
  calls_.clear();
  stdin_texts_.clear();
}

}  // namespace chaos::testing
