#include "agent/faults/process/process_target.h"

#include <algorithm>

#include "agent/faults/process/pidfile.h"
#include "agent/targets/container_finder.h"
#include "common/sampling.h"

namespace chaos::agent {

namespace {

using Target = v1::ProcessTarget;

std::string basename_of_argv0(const std::string& cmdline) {
  const std::string argv0 = cmdline.substr(0, cmdline.find(' '));
  const auto slash = argv0.rfind('/');
  return slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
}

// comm is cut to 15 characters by the kernel, so a longer name matches the
// executable's basename instead.
bool name_matches(const ProcessInfo& process, const std::string& name) {
  return process.comm == name || (!process.cmdline.empty() && basename_of_argv0(process.cmdline) == name);
}

bool signallable(const ProcessInfo& process) { return !process.kernel_thread && process.state != 'Z'; }

bool in_scope(const ProcessInfo& process, const ProcessTargeting& targeting, std::uint64_t own_netns,
              const ProcessArea& area) {
  if (area.in_container()) return process.pidns_inode == area.pid_namespace;
  return targeting.scope == ProcessScope::kAll || (own_netns != 0 && process.netns_inode == own_netns);
}

// The one process a pid or pidfile names, or why there is none.
StatusOr<std::vector<ProcessInfo>> match_single(int pid, const std::string& what, const ProcessTargeting& targeting,
                                                const ProcessArea& area) {
  auto process = targeting.table->get(pid);
  if (!process || !signallable(*process)) return not_found(what + ": no process with pid " + std::to_string(pid));
  if (area.in_container() && !in_scope(*process, targeting, 0, area)) {
    return not_found(what + ": pid " + std::to_string(pid) + " is not a process of " + area.name);
  }
  if (!in_scope(*process, targeting, targeting.table->self_netns_inode(), area)) {
    return not_found(what + ": pid " + std::to_string(pid) +
                     " is not in this agent's network namespace (--process-scope netns)");
  }
  return std::vector<ProcessInfo>{*process};
}

std::vector<ProcessInfo> match_listed(const ProcessSelector& selector, const ProcessTargeting& targeting,
                                      const ProcessArea& area) {
  const Target& target = selector.target();
  const std::uint64_t own_netns = targeting.table->self_netns_inode();
  std::vector<ProcessInfo> matches;
  for (auto& process : targeting.table->list()) {
    if (!signallable(process) || !in_scope(process, targeting, own_netns, area)) continue;
    const bool hit = target.selector_case() == Target::kName
                         ? name_matches(process, target.name())
                         : !process.cmdline.empty() && selector.cmdline_regex()->found_in(process.cmdline);
    if (hit) matches.push_back(std::move(process));
  }
  return matches;
}

// A container's pid file holds a pid of the container's namespace: the
// process of the container whose innermost pid it is.
StatusOr<std::vector<ProcessInfo>> match_container_pidfile(const ProcessSelector& selector,
                                                           const ProcessTargeting& targeting,
                                                           const ProcessArea& area) {
  const Target& target = selector.target();
  const std::string field = selector.field() + ".pidfile";
  CHAOS_ASSIGN_OR_RETURN(const int inner, read_pidfile_in_root(area.root_path, target.pidfile(), field));
  for (auto& process : targeting.table->list()) {
    if (!signallable(process) || !in_scope(process, targeting, 0, area)) continue;
    if (targeting.table->namespace_pid(process.pid) == inner) return std::vector<ProcessInfo>{std::move(process)};
  }
  return not_found(field + " '" + target.pidfile() + "': no process of " + area.name + " has pid " +
                   std::to_string(inner) + " in its namespace");
}

StatusOr<std::vector<ProcessInfo>> match(const ProcessSelector& selector, const ProcessTargeting& targeting,
                                         const ProcessArea& area) {
  const Target& target = selector.target();
  const std::string& field = selector.field();
  switch (target.selector_case()) {
    case Target::kPid:
      return match_single(target.pid(), field + ".pid", targeting, area);
    case Target::kPidfile: {
      if (area.in_container()) return match_container_pidfile(selector, targeting, area);
      CHAOS_ASSIGN_OR_RETURN(const int pid, read_pidfile(target.pidfile(), field + ".pidfile"));
      return match_single(pid, field + ".pidfile '" + target.pidfile() + "'", targeting, area);
    }
    case Target::kName:
    case Target::kCmdlineRegex: {
      auto matches = match_listed(selector, targeting, area);
      if (matches.empty()) {
        const std::string scope = area.in_container()                          ? " in " + area.name
                                  : targeting.scope == ProcessScope::kNetns ? " in this network namespace"
                                                                            : "";
        return not_found(field + ": no process matches " + describe_process_target(target) + scope);
      }
      return matches;
    }
    case Target::SELECTOR_NOT_SET:
      break;
  }
  return invalid_argument(field + ": one of name, cmdline_regex, pid or pidfile is required");
}

Status refuse_forbidden(const std::vector<ProcessInfo>& matches, const std::string& field,
                        const ProcessTargeting& targeting) {
  const int self = targeting.table->self_pid();
  const int parent = targeting.table->parent_pid();
  for (const auto& process : matches) {
    std::string why;
    if (process.pid == 1) why = "it is pid 1 (init)";
    if (process.pid == self) why = "it is the agent itself";
    if (process.pid == parent) why = "it is the agent's parent";
    if (why.empty()) {
      if (auto pattern = targeting.protected_processes.protecting_pattern(process)) {
        why = "policy protects it (protected_processes '" + *pattern + "')";
      }
    }
    if (!why.empty()) {
      return permission_denied(field + ": refusing to signal pid " + std::to_string(process.pid) + " (" +
                               process.comm + "): " + why + "; narrow the target");
    }
  }
  return {};
}

std::vector<ProcessInfo> sample(std::vector<ProcessInfo> matches, const Target& target, std::uint64_t seed) {
  keep_sample(matches, sample_size(matches.size(), target.count(), target.percent()), seed,
              [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
  return matches;
}

}  // namespace

ProcessSelector::ProcessSelector(Target target, std::string field, std::optional<BoundedRegex> regex)
    : target_(std::move(target)), field_(std::move(field)), cmdline_regex_(std::move(regex)) {}

StatusOr<ProcessSelector> ProcessSelector::compile(const Target& target, std::string field) {
  std::optional<BoundedRegex> regex;
  switch (target.selector_case()) {
    case Target::SELECTOR_NOT_SET:
      return invalid_argument(field + ": one of name, cmdline_regex, pid or pidfile is required");
    case Target::kName:
      if (target.name().empty()) return invalid_argument(field + ".name: must not be empty");
      break;
    case Target::kCmdlineRegex: {
      if (target.cmdline_regex().empty()) return invalid_argument(field + ".cmdline_regex: must not be empty");
      auto compiled = BoundedRegex::compile(target.cmdline_regex());
      if (!compiled.ok()) return invalid_argument(field + ".cmdline_regex: " + compiled.status().message());
      regex = std::move(*compiled);
      break;
    }
    case Target::kPid:
      if (target.pid() <= 0) return invalid_argument(field + ".pid: must be positive");
      break;
    case Target::kPidfile:
      CHAOS_RETURN_IF_ERROR(validate_pidfile_path(target.pidfile(), field + ".pidfile"));
      break;
  }
  if (!(target.percent() >= 0 && target.percent() <= 100)) {  // also refuses NaN
    return invalid_argument(field + ".percent: must be within 0..100");
  }
  if (target.count() > 0 && target.percent() > 0) {
    return invalid_argument(field + ".count: set count or percent, not both");
  }
  return ProcessSelector(target, std::move(field), std::move(regex));
}

Status validate_process_target(const Target& target, const std::string& field) {
  return ProcessSelector::compile(target, field).status();
}

StatusOr<ProcessArea> process_area_of(const FaultContext& context, ProcessTable& table) {
  if (context.container == nullptr) return ProcessArea{};
  const v1::ContainerRef& ref = context.container->ref;
  ProcessArea area;
  area.name = "container " + describe_container(ref);
  area.root_path = context.container->root_path.empty() ? "/proc/" + std::to_string(ref.pid()) + "/root"
                                                        : context.container->root_path;
  const auto init = table.get(ref.pid());
  if (!init || (ref.pid_start_time() != 0 && init->start_time != ref.pid_start_time())) {
    return not_found(area.name + ": its init pid " + std::to_string(ref.pid()) + " is gone");
  }
  if (init->pidns_inode == 0) {
    return failed_precondition(area.name + ": cannot read /proc/" + std::to_string(ref.pid()) + "/ns/pid");
  }
  area.pid_namespace = init->pidns_inode;
  return area;
}

StatusOr<std::vector<ProcessInfo>> resolve_process_target(const ProcessSelector& selector,
                                                          const ProcessTargeting& targeting, std::uint64_t seed,
                                                          const ProcessArea& area) {
  CHAOS_ASSIGN_OR_RETURN(auto matches, match(selector, targeting, area));
  CHAOS_RETURN_IF_ERROR(refuse_forbidden(matches, selector.field(), targeting));
  return sample(std::move(matches), selector.target(), seed);
}

StatusOr<std::vector<ProcessInfo>> resolve_process_target(const Target& target, const std::string& field,
                                                          const ProcessTargeting& targeting, std::uint64_t seed,
                                                          const ProcessArea& area) {
  CHAOS_ASSIGN_OR_RETURN(const ProcessSelector selector, ProcessSelector::compile(target, field));
  return resolve_process_target(selector, targeting, seed, area);
}

std::vector<ProcessInfo> match_process_target(const Target& target, const ProcessTargeting& targeting,
                                              const ProcessArea& area) {
  auto selector = ProcessSelector::compile(target, "target");
  if (!selector.ok()) return {};
  auto matches = match(*selector, targeting, area);
  return matches.ok() ? std::move(*matches) : std::vector<ProcessInfo>{};
}

std::string describe_process_target(const Target& target) {
  switch (target.selector_case()) {
    case Target::kName: return "name '" + target.name() + "'";
    case Target::kCmdlineRegex: return "cmdline_regex '" + target.cmdline_regex() + "'";
    case Target::kPid: return "pid " + std::to_string(target.pid());
    case Target::kPidfile: return "pidfile '" + target.pidfile() + "'";
    case Target::SELECTOR_NOT_SET: break;
  }
  return "no selector";
}

std::string join_pids(const std::vector<ProcessInfo>& processes) {
  std::string text;
  for (const auto& process : processes) {
    if (!text.empty()) text += ",";
    text += std::to_string(process.pid);
  }
  return text;
}

}  // namespace chaos::agent
