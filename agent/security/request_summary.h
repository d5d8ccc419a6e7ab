// A request as JSON for the audit log: the proto3 JSON mapping with proto
// field names (what MessageToJsonString prints with
// preserve_proto_field_names), built by reflection straight into
// nlohmann::json, without printing and parsing JSON text on the way.
#pragma once

#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

namespace chaos::agent {

// Fields at their default value are left out; 64-bit integers are strings,
// enums their names, Duration "1.5s" and Timestamp RFC 3339 text. Nesting
// is bounded by protobuf's own parse depth limit. The summary is bounded
// while it is built (about 4 KiB of JSON): past that, fields and elements
// are left out, strings cut, and the top level gets "(truncated)": true.
// An out-of-range Duration or Timestamp is {"seconds": "..", "nanos": n}.
nlohmann::json request_summary(const google::protobuf::Message& message);

}  // namespace chaos::agent
