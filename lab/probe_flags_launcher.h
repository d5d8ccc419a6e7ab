// The supervisor's launcher for the probe's stored extra flags: every
// (re)start of the process named `process_name` appends the flags read at
// that moment, so after `lab probe` changed them a restart (a chaos kill
// included) never brings back the old ones. Other processes pass through.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lab/process_launcher.h"

namespace chaos::lab {

class ProbeFlagsLauncher final : public ProcessLauncher {
 public:
  using FlagSource = std::function<StatusOr<std::vector<std::string>>()>;

  ProbeFlagsLauncher(ProcessLauncher& inner, std::string process_name, FlagSource flags)
      : inner_(inner), process_name_(std::move(process_name)), flags_(std::move(flags)) {}

  // A flag source error is a start failure: the supervisor retries later.
  StatusOr<int> start(const ProcessSpec& spec) override;
  bool running(int pid) override { return inner_.running(pid); }
  void send_signal(int pid, int signal_number) override { inner_.send_signal(pid, signal_number); }

 private:
  ProcessLauncher& inner_;
  std::string process_name_;
  FlagSource flags_;
};

}  // namespace chaos::lab
