#include "lab/lab_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "common/command_runner.h"
#include "lab/lab_operations.h"

namespace chaos::lab {

namespace {

struct LabFlags {
  LabParams params;
  bool keep_state = false;
};

void add_layout_flags(CLI::App& command, LabParams& params) {
  command.add_option("--nodes", params.nodes, "Number of broker nodes")->capture_default_str();
  command.add_option("--state-dir", params.state_dir, "Config, data, logs and pids of the lab")
      ->capture_default_str();
  command.add_option("--prefix", params.prefix, "Name prefix of namespaces and links")->capture_default_str();
  command.add_option("--subnet", params.subnet, "First three octets of the lab's /24")->capture_default_str();
  command.add_option("--prometheus-port", params.prometheus_port, "Prometheus port on 127.0.0.1")
      ->capture_default_str();
  command.add_option("--probe-port", params.probe_port, "chaos-probe /metrics port on 127.0.0.1")
      ->capture_default_str();
  command.add_option("--bin-dir", params.bin_dir, "Where chaos-agent and chaos-probe are (default: next to chaos-lab)");
}

void add_runtime_flag(CLI::App& command, LabParams& params) {
  command.add_option("--runtime", params.runtime,
                     "How the NATS brokers run: process (nats-server in the node namespace) or podman (one "
                     "Podman container per node, joined to the node namespace)")
      ->capture_default_str();
}

std::string self_path() {
  std::error_code error;
  auto path = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string("chaos-lab") : path.string();
}

// The callbacks leave through CLI11's RuntimeError, whose code chaos-lab's main returns.
[[noreturn]] void finish(const Status& status) {
  if (status.ok()) throw CLI::Success();
  std::cerr << "chaos-lab: " << status.message() << "\n";
  const bool not_up = status.code() == StatusCode::kNotFound || status.code() == StatusCode::kUnavailable;
  throw CLI::RuntimeError(not_up ? kLabExitNotUp : kLabExitError);
}

// The layout flags are invalid: nothing was touched.
[[noreturn]] void usage_error(const Status& status) {
  std::cerr << "chaos-lab: " << status.message() << "\n";
  throw CLI::RuntimeError(kLabExitUsage);
}

template <typename Operation>
void run_with_layout(const LabFlags& flags, Operation operation) {
  auto layout = LabLayout::create(flags.params);
  if (!layout.ok()) usage_error(layout.status());
  ProcessCommandRunner runner;
  SystemClock clock;
  finish(operation(*layout, runner, clock));
}

}  // namespace

void add_lab_commands(CLI::App& lab) {
  auto flags = std::make_shared<LabFlags>();
  lab.require_subcommand(1);
  lab.footer("Exit codes: 0 ok; 1 the lab is not (fully) up; 3 error; 4 usage: bad flags.");

  auto* up = lab.add_subcommand("up", "Bring the lab up: namespaces, NATS cluster, agents, Prometheus, probe");
  add_layout_flags(*up, flags->params);
  add_runtime_flag(*up, flags->params);
  up->callback([flags] {
    run_with_layout(*flags, [](const LabLayout& layout, CommandRunner& runner, Clock& clock) {
      return lab_up(layout, runner, clock, std::cout, self_path());
    });
  });

  auto* down = lab.add_subcommand("down", "Stop the lab and remove everything it created");
  add_layout_flags(*down, flags->params);
  down->add_flag("--keep-state", flags->keep_state, "Keep the state dir (logs, data) for inspection");
  down->callback([flags] {
    run_with_layout(*flags, [flags](const LabLayout& layout, CommandRunner& runner, Clock& clock) {
      return lab_down(layout, runner, clock, std::cout, flags->keep_state);
    });
  });

  auto* status = lab.add_subcommand("status", "Show the lab's nodes, processes and URLs");
  add_layout_flags(*status, flags->params);
  status->callback([flags] {
    run_with_layout(*flags, [](const LabLayout& layout, CommandRunner& runner, Clock&) {
      return lab_status(layout, runner, std::cout);
    });
  });

  auto* supervise = lab.add_subcommand("supervise", "");  // hidden: started by `lab up`
  supervise->group("");
  add_layout_flags(*supervise, flags->params);
  add_runtime_flag(*supervise, flags->params);
  supervise->callback([flags] {
    auto layout = LabLayout::create(flags->params);
    if (!layout.ok()) usage_error(layout.status());
    const int code = lab_supervise(*layout);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace chaos::lab
