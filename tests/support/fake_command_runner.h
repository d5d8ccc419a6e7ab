// A CommandRunner that records every argv and answers from a script, so the
// logic that drives tc / nft / iptables is tested without root.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/command_runner.h"

namespace chaos::testing {

class FakeCommandRunner final : public CommandRunner {
 public:
  using Responder = std::function<StatusOr<CommandResult>(const std::vector<std::string>&)>;
  // For commands fed on stdin (`nft -f -`, `iptables-restore`): also sees
  // the text. May block (tests of concurrency); the runner holds no lock
  // while a responder runs.
  using InputResponder =
      std::function<StatusOr<CommandResult>(const std::vector<std::string>&, const std::string& stdin_text)>;
  using CommandRunner::run;

  StatusOr<CommandResult> run(const std::vector<std::string>& argv, const RunOptions& options) override;

  // Every command whose joined argv contains `needle` gets this answer; the
  // latest matching rule wins. Unmatched commands succeed with no output.
  void on(std::string needle, Responder responder);
  void on_input(std::string needle, InputResponder responder);
  void fail_on(std::string needle, std::string stderr_text = "fake failure");

  std::vector<std::vector<std::string>> calls() const;
  std::vector<std::string> stdin_texts() const;
  // Joined argv strings, for readable assertions.
  std::vector<std::string> call_lines() const;
  void clear();

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, InputResponder>> rules_;
  std::vector<std::vector<std::string>> calls_;
  std::vector<std::string> stdin_texts_;
};

}  // namespace chaos::testing
