#include "lab/supervisor.h"

#include <signal.h>

namespace chaos::lab {

Supervisor::Supervisor(std::vector<ProcessSpec> specs, ProcessLauncher& launcher, Clock& clock, Logger log)
    : launcher_(launcher), clock_(clock), log_(std::move(log)) {
  for (auto& spec : specs) processes_.push_back(Managed{std::move(spec), std::nullopt, std::nullopt, 0});
}

void Supervisor::launch(Managed& process) {
  auto pid = launcher_.start(process.spec);
  if (pid.ok()) {
    process.pid = *pid;
    process.restart_at.reset();
    log_("started " + process.spec.name + " pid " + std::to_string(*pid));
    return;
  }
  process.pid.reset();
  process.restart_at = clock_.steady_now() + process.spec.restart_delay;
  log_("cannot start " + process.spec.name + ": " + pid.status().message());
}

void Supervisor::start_all() {
  for (auto& process : processes_) launch(process);
}

void Supervisor::tick() {
  const SteadyTime now = clock_.steady_now();
  for (auto& process : processes_) {
    if (process.pid && !launcher_.running(*process.pid)) {
      log_(process.spec.name + " pid " + std::to_string(*process.pid) + " exited; restarting in " +
           std::to_string(process.spec.restart_delay.count()) + " ms");
      process.pid.reset();
      process.restart_at = now + process.spec.restart_delay;
    }
    if (!process.pid && process.restart_at && now >= *process.restart_at) {
      ++process.restarts;
      launch(process);
    }
  }
}

void Supervisor::stop_all(Duration grace) {
  // Reverse start order: the probe and Prometheus go before the brokers.
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    if (it->pid) launcher_.send_signal(*it->pid, SIGTERM);
    it->restart_at.reset();
  }
  const SteadyTime deadline = clock_.steady_now() + grace;
  auto anyone_running = [this] {
    bool running = false;
    for (auto& process : processes_) {
      if (process.pid && !launcher_.running(*process.pid)) process.pid.reset();
      running = running || process.pid.has_value();
    }
    return running;
  };
  while (anyone_running() && clock_.steady_now() < deadline) {
    clock_.sleep_until(std::min(deadline, clock_.steady_now() + std::chrono::milliseconds(100)));
  }
  for (auto& process : processes_) {
    if (!process.pid) continue;
    log_(process.spec.name + " ignored SIGTERM; sending SIGKILL");
    launcher_.send_signal(*process.pid, SIGKILL);
    while (launcher_.running(*process.pid)) {
      clock_.sleep_until(clock_.steady_now() + std::chrono::milliseconds(20));
    }
    process.pid.reset();
  }
}

const Supervisor::Managed* Supervisor::find(const std::string& name) const {
  for (const auto& process : processes_) {
    if (process.spec.name == name) return &process;
  }
  return nullptr;
}

std::optional<int> Supervisor::pid_of(const std::string& name) const {
  const Managed* process = find(name);
  return process ? process->pid : std::nullopt;
}

int Supervisor::restarts_of(const std::string& name) const {
  const Managed* process = find(name);
  return process ? process->restarts : 0;
}

}  // namespace chaos::lab
