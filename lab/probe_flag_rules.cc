#include "lab/probe_flag_rules.h"

#include <algorithm>

namespace chaos::lab {
namespace {

// As chaos-probe's own per-broker checks (lab/probe/probe_flags.cc).
const std::vector<std::string> kProbeRulesNatsOnly = {"--stream",   "--subject",  "--replicas",
                                                      "--consumer", "--ack-wait", "--max-pings-out"};
const std::vector<std::string> kProbeRulesRabbitmqOnly = {"--queue"};
const std::vector<std::string> kProbeRulesLabSetNats = {"--broker",  "--servers",  "--stream",        "--subject",
                                                        "--replicas", "--consumer", "--metrics-listen"};
const std::vector<std::string> kProbeRulesLabSetRabbitmq = {"--broker", "--servers", "--queue", "--metrics-listen"};

// "--flag" of "--flag" or "--flag=value"; "" for anything else (a value).
std::string probe_rules_flag_name(const std::string& flag) {
  if (flag.rfind("--", 0) != 0) return "";
  return flag.substr(0, flag.find('='));
}

bool probe_rules_contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string probe_rules_join(const std::vector<std::string>& flags) {
  std::string text;
  for (std::size_t i = 0; i < flags.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == flags.size() ? " and " : ", ") + flags[i];
  }
  return text;
}

std::string probe_rules_lab_sets(const std::string& broker) {
  if (broker.empty()) {
    return "the lab sets " + probe_rules_join(kProbeRulesLabSetNats) + " for nats, " +
           probe_rules_join(kProbeRulesLabSetRabbitmq) + " for rabbitmq";
  }
  return "the lab sets " + probe_rules_join(lab_set_probe_flags(broker)) + " for " + broker;
}

}  // namespace

std::vector<std::string> lab_set_probe_flags(const std::string& broker) {
  if (broker == "nats") return kProbeRulesLabSetNats;
  if (broker == "rabbitmq") return kProbeRulesLabSetRabbitmq;
  std::vector<std::string> both = kProbeRulesLabSetNats;
  for (const auto& flag : kProbeRulesLabSetRabbitmq) {
    if (!probe_rules_contains(both, flag)) both.push_back(flag);
  }
  return both;
}

std::string probe_flag_problem(const std::string& flag, const std::string& broker) {
  if (flag.empty()) return "is empty";
  if (flag.size() > kMaxProbeFlagLength) {
    return "is " + std::to_string(flag.size()) + " bytes, more than " + std::to_string(kMaxProbeFlagLength);
  }
  for (const char c : flag) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "contains a control character";
  }
  const std::string name = probe_rules_flag_name(flag);
  if (name.empty()) return "";
  if (probe_rules_contains(lab_set_probe_flags(broker), name)) {
    return "'" + flag + "' is set by the lab itself (" + probe_rules_lab_sets(broker) + "); leave it out";
  }
  if (broker == "rabbitmq" && probe_rules_contains(kProbeRulesNatsOnly, name)) {
    return "'" + flag + "' is a NATS-only flag, and the lab runs rabbitmq";
  }
  if (broker == "nats" && probe_rules_contains(kProbeRulesRabbitmqOnly, name)) {
    return "'" + flag + "' is a RabbitMQ-only flag, and the lab runs nats";
  }
  return "";
}

std::string probe_flag_count_problem(std::size_t count) {
  if (count <= kMaxProbeFlags) return "";
  return "has " + std::to_string(count) + " entries, more than " + std::to_string(kMaxProbeFlags);
}

}  // namespace chaos::lab
