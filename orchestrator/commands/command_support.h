// Small helpers shared by the subcommands: fault rendering (text and JSON)
// and the exit codes.
#pragma once

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chaos/v1/agent.pb.h"

namespace chaos::orchestrator {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 3;

// The proto as JSON with its proto field names ("fault_id", "applied_at").
nlohmann::json proto_to_json(const google::protobuf::Message& message);

// "f-12  network.delay  ACTIVE  nfqueue  n1  expires 2026-...  detail"
void print_fault_line(std::ostream& out, const v1::Fault& fault);

// Adds `--output text|json` to a subcommand.
void add_output_option(CLI::App& command, std::string& output);

}  // namespace chaos::orchestrator
