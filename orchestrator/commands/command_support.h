// Small helpers shared by the subcommands: fault rendering (text and JSON),
// the exit codes and the output option.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chaos/v1/agent.pb.h"
#include "orchestrator/commands/exit_codes.h"

namespace chaos::orchestrator {

// The proto as JSON with its proto field names ("fault_id", "applied_at").
nlohmann::json proto_to_json(const google::protobuf::Message& message);

// "f-12  network.delay  ACTIVE  nfqueue  n1  expires 2026-...  detail";
// a fault whose revert failed starts with "!! " so it stands out.
void print_fault_line(std::ostream& out, const v1::Fault& fault);

// The faults of a Revert/RevertAll answer that are not REVERTED (revert
// failed, or still applying or reverting), each as "fault ID (kind) STATE:
// detail": the revert of these is not confirmed.
std::vector<std::string> unconfirmed_reverts(const std::vector<v1::Fault>& faults);

size_t count_revert_failed(const std::vector<v1::Fault>& faults);

// Adds `--output text|json` to a subcommand.
void add_output_option(CLI::App& command, std::string& output);

}  // namespace chaos::orchestrator
