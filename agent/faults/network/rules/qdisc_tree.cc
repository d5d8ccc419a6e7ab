#include "agent/faults/network/rules/qdisc_tree.h"

#include <algorithm>
#include <cmath>

#include "agent/faults/network/rules/kernel_readback.h"
#include "agent/faults/network/rules/object_names.h"

namespace chaos::agent::network {

namespace {

// The minimum sensible bucket: two full Ethernet frames.
constexpr std::uint32_t kMinBurstBytes = 2 * 1514;
constexpr auto kDefaultTbfLatency = std::chrono::milliseconds(50);

std::string micros(Duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(duration).count()) + "us";
}

std::string percent(double probability) {
  // tc parses percentages as doubles; 6 decimals keep 1e-6 resolution.
  char text[32];
  std::snprintf(text, sizeof(text), "%.6f%%", probability * 100.0);
  return text;
}

const char* distribution_name(JitterDistribution distribution) {
  switch (distribution) {
    case JitterDistribution::kNormal: return "normal";
    case JitterDistribution::kPareto: return "pareto";
    case JitterDistribution::kUniform: break;
  }
  return "";
}

bool is_kernel_default_root(const std::string& show_output) {
  // "qdisc noqueue 0: root refcnt 2" / "qdisc fq_codel 0: root ..." / "qdisc mq 0: root"
  return show_output.empty() || show_output.find(" 0: root") != std::string::npos;
}

Argv tc(std::initializer_list<std::string> args) {
  Argv argv{"tc"};
  argv.insert(argv.end(), args);
  return argv;
}

// A leaf handle some fault of ours would use (not this fault's, maybe).
bool is_fault_leaf(const std::string& handle) {
  if (handle.size() < 2 || handle.back() != ':') return false;
  char* end = nullptr;
  const unsigned long major = std::strtoul(handle.c_str(), &end, 16);
  return end == handle.c_str() + handle.size() - 1 && major >= kFirstLeafHandle &&
         major < kFirstLeafHandle + kLeafHandleCount;
}

Status delete_root(CommandRunner& commands, const std::string& interface) {
  auto removed = commands.run_checked(tc({"qdisc", "del", "dev", interface, "root"}));
  if (!removed.ok()) return removed.status().with_context("removing our root qdisc from " + interface);
  return {};
}

}  // namespace

Argv tbf_leaf(std::uint64_t rate_bits_per_second, std::uint32_t burst_bytes, Duration latency) {
  if (burst_bytes == 0) {
    // 10 ms worth of bytes: enough for the kernel's timer granularity.
    burst_bytes = static_cast<std::uint32_t>(std::min<std::uint64_t>(rate_bits_per_second / 8 / 100, 1u << 30));
  }
  burst_bytes = std::max(burst_bytes, kMinBurstBytes);
  if (latency <= Duration{0}) latency = kDefaultTbfLatency;
  return {"tbf", "rate", std::to_string(rate_bits_per_second) + "bit", "burst", std::to_string(burst_bytes),
          "latency", micros(latency)};
}

Argv netem_leaf(const ImpairmentSpec& spec, std::uint32_t limit_packets) {
  Argv argv{"netem", "limit", std::to_string(limit_packets)};
  if (spec.delay > Duration{0} || spec.jitter > Duration{0}) {
    argv.insert(argv.end(), {"delay", micros(spec.delay)});
    if (spec.jitter > Duration{0}) {
      argv.push_back(micros(spec.jitter));
      if (spec.delay_correlation > 0) argv.push_back(percent(spec.delay_correlation));
      if (spec.distribution != JitterDistribution::kUniform) {
        argv.insert(argv.end(), {"distribution", distribution_name(spec.distribution)});
      }
    }
  }
  if (spec.burst_loss) {
    const auto& model = *spec.burst_loss;
    argv.insert(argv.end(), {"loss", "gemodel", percent(model.good_to_bad), percent(model.bad_to_good),
                             percent(model.loss_in_bad), percent(model.loss_in_good)});
  } else if (spec.loss_probability > 0) {
    argv.insert(argv.end(), {"loss", "random", percent(spec.loss_probability)});
    if (spec.loss_correlation > 0) argv.push_back(percent(spec.loss_correlation));
  }
  if (spec.duplicate_probability > 0) argv.insert(argv.end(), {"duplicate", percent(spec.duplicate_probability)});
  // netem's "reorder P" sends P at once and delays the rest: the same
  // meaning as ImpairmentSpec::immediate_probability.
  if (spec.immediate_probability > 0) argv.insert(argv.end(), {"reorder", percent(spec.immediate_probability)});
  if (spec.rate_bits_per_second > 0) {
    argv.insert(argv.end(), {"rate", std::to_string(spec.rate_bits_per_second) + "bit"});
  }
  return argv;
}

std::string qdisc_tree_batch(const std::string& interface, const std::string& leaf_handle, const Argv& leaf) {
  // tc -batch splits on whitespace; interface names are validated plain words.
  std::string leaf_line = "qdisc add dev " + interface + " parent " + kQdiscClassId + " handle " + leaf_handle;
  for (const auto& arg : leaf) leaf_line += " " + arg;
  return
      // default 0: unclassified packets bypass the classes, unshaped.
      "qdisc add dev " + interface + " root handle " + kQdiscRootHandle + " htb default 0\n" +
      "class add dev " + interface + " parent " + kQdiscRootHandle + " classid " + kQdiscClassId +
      " htb rate 100gbit\n" + leaf_line + "\n";
}

Status install_qdisc_tree(CommandRunner& commands, const std::string& interface, const std::string& leaf_handle,
                          const Argv& leaf) {
  auto shown = commands.run_checked(tc({"qdisc", "show", "dev", interface, "root"}));
  if (!shown.ok()) return shown.status().with_context("reading the root qdisc of " + interface);
  if (!is_kernel_default_root(shown->stdout_text)) {
    std::string current = shown->stdout_text.substr(0, shown->stdout_text.find('\n'));
    return failed_precondition("interface " + interface + " already has a configured root qdisc (" + current +
                               "); refusing to replace it");
  }
  RunOptions options;
  options.stdin_text = qdisc_tree_batch(interface, leaf_handle, leaf);
  auto result = commands.run_checked({"tc", "-batch", "-"}, options);
  if (!result.ok()) {
    // tc stops at the first failing line; what it added before is ours.
    (void)remove_qdisc_tree(commands, interface, leaf_handle);
    return result.status().with_context("installing qdisc tree on " + interface);
  }
  return {};
}

Status remove_qdisc_tree(CommandRunner& commands, const std::string& interface, const std::string& leaf_handle) {
  auto shown = commands.run(tc({"qdisc", "show", "dev", interface}));
  if (!shown.ok()) return shown.status().with_context("reading the qdiscs of " + interface);
  // Interface gone: nothing of ours can be left on it.
  if (shown->exit_code != 0) return {};
  const auto trees = parse_qdisc_trees(shown->stdout_text, interface);
  const auto found = trees.find(interface);
  if (found == trees.end() || !found->second.root) return {};
  const std::string& leaf = found->second.leaf;
  if (leaf != leaf_handle && is_fault_leaf(leaf)) return {};  // another fault's tree
  return delete_root(commands, interface);
}

Status remove_qdisc_trees_with_leaf(CommandRunner& commands, const std::string& leaf_handle) {
  auto shown = commands.run_checked(tc({"qdisc", "show"}));
  if (!shown.ok()) return shown.status().with_context("reading the qdiscs of every interface");
  Status first_error;
  for (const auto& [interface, tree] : parse_qdisc_trees(shown->stdout_text, "")) {
    if (!tree.root || tree.leaf != leaf_handle) continue;
    if (auto status = delete_root(commands, interface); !status.ok() && first_error.ok()) first_error = status;
  }
  return first_error;
}

}  // namespace chaos::agent::network
