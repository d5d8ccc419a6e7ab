// A request as JSON for the audit log: the proto3 JSON mapping with proto
// field names (what MessageToJsonString prints with
// preserve_proto_field_names), built straight into nlohmann::json from the
// message's wire bytes and a schema taken at start-up (request_schema.h),
// without protobuf's reflection or JSON printer.
#pragma once

#include <google/protobuf/message_lite.h>
#include <nlohmann/json.hpp>

#include <string_view>

#include "agent/security/request_schema.h"

namespace chaos::agent {

// Fields at their default value are left out, and so are fields the schema
// does not know; 64-bit integers are strings, enums their names (a number
// the schema lacks: the number), Duration "1.5s" and Timestamp RFC 3339
// text. Nesting is bounded. The summary is bounded while it is built
// (about 4 KiB of JSON): past that, fields and elements are left out,
// strings cut, and the top level gets "(truncated)": true. An out-of-range
// Duration or Timestamp is {"seconds": "..", "nanos": n}.
nlohmann::json request_summary(const MessageSchema& type, const google::protobuf::MessageLite& message);

// The same from wire bytes; bytes that do not parse end the summary where
// they start, marked "(truncated)".
nlohmann::json request_summary(const MessageSchema& type, std::string_view wire);

}  // namespace chaos::agent
