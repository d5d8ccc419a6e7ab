// Which extra chaos-probe flags an experiment's [lab] probe_flags may hold:
// one rule set for both readers of that table (the lab's `lab probe --for`
// and the orchestrator's experiment loader), so they accept the same
// flags. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace chaos::lab {

inline constexpr std::size_t kMaxProbeFlags = 32;
inline constexpr std::size_t kMaxProbeFlagLength = 256;

// The flags the lab's own probe argv sets for `broker` ("nats" or
// "rabbitmq"; "" = not known: both brokers' lists), plus --consumer, which
// names the durable the lab's experiments watch, and --broker. An extra
// --queue would make the queue_leader label follow a queue the probe does
// not use.
std::vector<std::string> lab_set_probe_flags(const std::string& broker);

// Empty when `flag` (one argv element) may be passed to the lab's probe on
// `broker`; otherwise the reason, to follow "lab.probe_flags[i] ". Refused:
// empty, longer than kMaxProbeFlagLength, control characters, a flag the lab
// sets ("--flag" or "--flag=value"), a flag of the other broker only
// (checked only when `broker` is known).
std::string probe_flag_problem(const std::string& flag, const std::string& broker);

// Empty when `count` flags are allowed; otherwise the reason, to follow
// "lab.probe_flags ".
std::string probe_flag_count_problem(std::size_t count);

}  // namespace chaos::lab
