// Fault parameters as written by people: TOML `params` tables and
// `chaosctl inject --param key=value` both become a ParamMap of text values,
// so one spec builder (fault_spec_builder.h) parses both the same way.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace chaos::orchestrator {

struct ParamValue {
  std::vector<std::string> items;  // exactly one for a scalar
  bool is_list = false;
  // Where the value came from ("kill.toml:12:40" or "--param delay");
  // prefixes every error about this value.
  std::string origin;
};

using ParamMap = std::map<std::string, ParamValue>;

// Parses "key=value" (lists comma-separated: "ports=4222,6222") into `params`.
Status add_cli_param(const std::string& assignment, ParamMap& params);

}  // namespace chaos::orchestrator
