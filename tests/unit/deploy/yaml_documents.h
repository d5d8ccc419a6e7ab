// The deploy manifests as JSON values, so tests can check their structure:
// every document of a YAML stream, parsed with libyaml. Plain scalars that
// read as booleans, integers or null become those; everything else is a
// string. Enough for Kubernetes manifests; anchors and aliases are refused.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace chaos::deploy::testing {

StatusOr<std::vector<nlohmann::json>> parse_yaml_documents(const std::string& text, const std::string& name);

}  // namespace chaos::deploy::testing
