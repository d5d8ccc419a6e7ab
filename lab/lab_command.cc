#include "lab/lab_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "common/command_runner.h"
#include "lab/lab_broker.h"
#include "lab/lab_lock.h"
#include "lab/lab_operations.h"
#include "lab/experiment_probe_flags.h"

namespace chaos::lab {

namespace {

struct LabFlags {
  LabParams params;
  bool keep_state = false;
  // `lab probe`: exactly one of these.
  std::string probe_for;
  bool probe_reset = false;
  std::vector<std::string> probe_flags;
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

void add_broker_flag(CLI::App& command, LabParams& params) {
  command.add_option("--broker", params.broker,
                     "Which broker the nodes run: nats (a JetStream cluster, stream CHAOS_PROBE) or rabbitmq "
                     "(RabbitMQ nodes clustered at boot, quorum queue chaos-probe; --runtime process only). "
                     "The other lab commands read it from the state dir")
      ->capture_default_str()
      ->check(CLI::IsMember({std::string(kBrokerNats), std::string(kBrokerRabbitmq)}));
}

// `status`, `down` and `probe` act on the broker `up` started.
void use_recorded_broker(LabFlags& flags) { flags.params.broker = recorded_broker(flags.params.state_dir); }

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

// `locked`: the verb changes the lab (up, down, probe) and holds the lab
// lock while it does (lab/lab_lock.h); a held lock is an error at once.
// `recorded`: the verb acts on the broker `up` recorded in the state dir,
// read only once the lock is held (an `up` or `down` may be writing or
// removing it until then).
template <typename Operation>
void run_with_layout(LabFlags& flags, Operation operation, bool locked = false, bool recorded = false) {
  std::optional<LabLock> lock;
  if (locked) {
    auto lock_layout = LabLayout::create(flags.params);  // the lock's path needs only the state dir
    if (!lock_layout.ok()) usage_error(lock_layout.status());
    auto acquired = LabLock::acquire(*lock_layout);
    if (!acquired.ok()) finish(acquired.status());
    lock.emplace(std::move(*acquired));
  }
  if (recorded) use_recorded_broker(flags);
  auto layout = LabLayout::create(flags.params);
  if (!layout.ok()) usage_error(layout.status());
  ProcessCommandRunner runner;
  SystemClock clock;
  finish(operation(*layout, runner, clock));
}

// The extra flags `lab probe` asked for: from --for's [lab] table, none
// for --reset, or the ones after `--`.
std::vector<std::string> requested_probe_flags(const LabFlags& flags) {
  const int given = (flags.probe_for.empty() ? 0 : 1) + (flags.probe_reset ? 1 : 0) + (flags.probe_flags.empty() ? 0 : 1);
  if (given != 1) usage_error(invalid_argument("lab probe: give one of --for EXPERIMENT.toml, --reset or -- FLAGS..."));
  if (flags.probe_reset) return {};
  if (!flags.probe_for.empty()) {
    auto read = read_experiment_probe_flags(flags.probe_for, flags.params.broker);
    if (!read.ok()) usage_error(read.status());
    return *read;
  }
  if (Status checked = check_probe_flags(flags.probe_flags, flags.params.broker, "lab probe"); !checked.ok()) usage_error(checked);
  return flags.probe_flags;
}

void add_probe_command(CLI::App& lab, const std::shared_ptr<LabFlags>& flags) {
  auto* probe = lab.add_subcommand(
      "probe", "Restart the lab's chaos-probe with the standard flags plus extra ones, and wait until it is steady");
  add_layout_flags(*probe, flags->params);
  probe->add_option("--for", flags->probe_for,
                    "Use the extra flags of this experiment's [lab] probe_flags (no [lab] table: the standard probe)")
      ->check(CLI::ExistingFile);
  probe->add_flag("--reset", flags->probe_reset, "Go back to the standard probe (no extra flags)");
  probe->add_option("flags", flags->probe_flags, "Extra chaos-probe flags, after `--` (e.g. -- --ping-interval 2s)");
  probe->footer("Prints \"lab: standard probe already running\" and returns at once when the probe already runs with "
                "the requested flags. `chaos-lab status` shows the stored flags; `up` starts the standard probe.");
  probe->callback([flags] {
    const int given = (flags->probe_for.empty() ? 0 : 1) + (flags->probe_reset ? 1 : 0) + (flags->probe_flags.empty() ? 0 : 1);
    if (given != 1) usage_error(invalid_argument("lab probe: give one of --for EXPERIMENT.toml, --reset or -- FLAGS..."));
    run_with_layout(*flags, [flags](const LabLayout& layout, CommandRunner&, Clock& clock) {
      return lab_probe(layout, clock, std::cout, requested_probe_flags(*flags));
    }, true, true);
  });
}

}  // namespace

void add_lab_commands(CLI::App& lab) {
  auto flags = std::make_shared<LabFlags>();
  lab.require_subcommand(1);
  lab.footer("up, down and probe hold the lab's lock (<state dir>.lock) while they run; one that finds it held "
             "stops at once (exit 3).\nExit codes: 0 ok; 1 the lab is not (fully) up; 3 error (also: another up, "
             "down or probe is running); 4 usage: bad flags.");

  auto* up = lab.add_subcommand("up", "Bring the lab up: namespaces, broker cluster (NATS or RabbitMQ), agents, "
                                      "Prometheus, probe");
  add_layout_flags(*up, flags->params);
  add_runtime_flag(*up, flags->params);
  add_broker_flag(*up, flags->params);
  up->callback([flags] {
    run_with_layout(*flags, [](const LabLayout& layout, CommandRunner& runner, Clock& clock) {
      return lab_up(layout, runner, clock, std::cout, self_path());
    }, true);
  });

  auto* down = lab.add_subcommand("down", "Stop the lab and remove everything it created");
  add_layout_flags(*down, flags->params);
  down->add_flag("--keep-state", flags->keep_state, "Keep the state dir (logs, data) for inspection");
  down->callback([flags] {
    run_with_layout(*flags, [flags](const LabLayout& layout, CommandRunner& runner, Clock& clock) {
      return lab_down(layout, runner, clock, std::cout, flags->keep_state);
    }, true, true);
  });

  auto* status = lab.add_subcommand("status", "Show the lab's nodes, processes and URLs");
  add_layout_flags(*status, flags->params);
  status->callback([flags] {
    run_with_layout(*flags, [](const LabLayout& layout, CommandRunner& runner, Clock&) {
      return lab_status(layout, runner, std::cout);
    }, false, true);
  });

  add_probe_command(lab, flags);

  auto* supervise = lab.add_subcommand("supervise", "");  // hidden: started by `lab up`
  supervise->group("");
  add_layout_flags(*supervise, flags->params);
  add_runtime_flag(*supervise, flags->params);
  add_broker_flag(*supervise, flags->params);
  supervise->callback([flags] {
    auto layout = LabLayout::create(flags->params);
    if (!layout.ok()) usage_error(layout.status());
    const int code = lab_supervise(*layout);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace chaos::lab
