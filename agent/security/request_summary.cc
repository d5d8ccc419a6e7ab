#include "agent/security/request_summary.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace chaos::agent {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Bounds the summary while it is built: a 256 KiB request (also from an
// unauthenticated caller) must not become megabytes of JSON nodes. Each
// value and name is charged about what it prints as; past the budget no
// field or element is added and long strings are cut.
constexpr std::size_t kSummaryBudgetBytes = 4096;

struct SummaryBudget {
  std::size_t left = kSummaryBudgetBytes;
  bool truncated = false;

  // False (and marks the summary truncated) once nothing is left.
  bool has_room() {
    if (left == 0) truncated = true;
    return left > 0;
  }
  void charge(std::size_t bytes) { left -= std::min(left, bytes); }
};

nlohmann::json summary_of_message(const Message& message, SummaryBudget& budget);

nlohmann::json summary_of_string(const std::string& text, SummaryBudget& budget) {
  if (text.size() <= budget.left) {
    budget.charge(text.size() + 2);
    return text;
  }
  budget.truncated = true;
  std::string cut = text.substr(0, budget.left);
  budget.charge(budget.left);
  return cut;
}

nlohmann::json summary_of_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

// One value of a field: element `index` of a repeated field, or the field.
nlohmann::json summary_of_value(const Message& message, const FieldDescriptor& field, int index,
                                SummaryBudget& budget) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = field.is_repeated();
  constexpr std::size_t kScalarBytes = 8;  // a number, a bool, an enum name
  if (field.cpp_type() != FieldDescriptor::CPPTYPE_STRING && field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    budget.charge(kScalarBytes);
  }
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return repeated ? reflection.GetRepeatedInt32(message, &field, index) : reflection.GetInt32(message, &field);
    case FieldDescriptor::CPPTYPE_UINT32:
      return repeated ? reflection.GetRepeatedUInt32(message, &field, index) : reflection.GetUInt32(message, &field);
    case FieldDescriptor::CPPTYPE_INT64:
      return std::to_string(repeated ? reflection.GetRepeatedInt64(message, &field, index)
                                     : reflection.GetInt64(message, &field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(repeated ? reflection.GetRepeatedUInt64(message, &field, index)
                                     : reflection.GetUInt64(message, &field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return summary_of_double(repeated ? reflection.GetRepeatedDouble(message, &field, index)
                                        : reflection.GetDouble(message, &field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return summary_of_double(repeated ? reflection.GetRepeatedFloat(message, &field, index)
                                        : reflection.GetFloat(message, &field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return repeated ? reflection.GetRepeatedBool(message, &field, index) : reflection.GetBool(message, &field);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? reflection.GetRepeatedEnumValue(message, &field, index)
                                  : reflection.GetEnumValue(message, &field);
      const auto* value = field.enum_type()->FindValueByNumber(number);
      return value != nullptr ? nlohmann::json(value->name()) : nlohmann::json(number);
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      return summary_of_string(repeated ? reflection.GetRepeatedStringReference(message, &field, index, &scratch)
                                        : reflection.GetStringReference(message, &field, &scratch),
                               budget);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return summary_of_message(repeated ? reflection.GetRepeatedMessage(message, &field, index)
                                         : reflection.GetMessage(message, &field),
                                budget);
  }
  return nullptr;
}

// A map field is a repeated entry message {key, value}: a JSON object.
nlohmann::json summary_of_map(const Message& message, const FieldDescriptor& field, SummaryBudget& budget) {
  nlohmann::json object = nlohmann::json::object();
  const Reflection& reflection = *message.GetReflection();
  const auto& entry_type = *field.message_type();
  for (int i = 0; i < reflection.FieldSize(message, &field) && budget.has_room(); ++i) {
    const Message& entry = reflection.GetRepeatedMessage(message, &field, i);
    const nlohmann::json key = summary_of_value(entry, *entry_type.map_key(), 0, budget);
    object[key.is_string() ? key.get<std::string>() : key.dump()] =
        summary_of_value(entry, *entry_type.map_value(), 0, budget);
  }
  return object;
}

nlohmann::json summary_of_well_known(const Message& message, const std::string& name) {
  const Reflection& reflection = *message.GetReflection();
  const auto& type = *message.GetDescriptor();
  const std::int64_t seconds = reflection.GetInt64(message, type.FindFieldByName("seconds"));
  const std::int32_t nanos = reflection.GetInt32(message, type.FindFieldByName("nanos"));
  // Out of range (or a Duration with mixed signs), protobuf's printer
  // overflows or prints "--5s": such values are shown raw.
  const nlohmann::json raw = {{"seconds", std::to_string(seconds)}, {"nanos", nanos}};
  if (name == "google.protobuf.Duration") {
    constexpr std::int64_t kMaxDurationSeconds = 315'576'000'000;
    const bool in_range = seconds >= -kMaxDurationSeconds && seconds <= kMaxDurationSeconds &&
                          nanos > -1'000'000'000 && nanos < 1'000'000'000;
    const bool same_sign = !(seconds > 0 && nanos < 0) && !(seconds < 0 && nanos > 0);
    if (!in_range || !same_sign) return raw;
    google::protobuf::Duration duration;
    duration.set_seconds(seconds);
    duration.set_nanos(nanos);
    return google::protobuf::util::TimeUtil::ToString(duration);
  }
  constexpr std::int64_t kMinTimestampSeconds = -62'135'596'800;  // 0001-01-01T00:00:00Z
  constexpr std::int64_t kMaxTimestampSeconds = 253'402'300'799;  // 9999-12-31T23:59:59Z
  if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds || nanos < 0 || nanos >= 1'000'000'000) {
    return raw;
  }
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(nanos);
  return google::protobuf::util::TimeUtil::ToString(timestamp);
}

nlohmann::json summary_of_message(const Message& message, SummaryBudget& budget) {
  const std::string& name = message.GetDescriptor()->full_name();
  if (name == "google.protobuf.Duration" || name == "google.protobuf.Timestamp") {
    budget.charge(32);
    return summary_of_well_known(message, name);
  }
  nlohmann::json object = nlohmann::json::object();
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);  // the set ones, in field-number order
  for (const FieldDescriptor* field : fields) {
    if (!budget.has_room()) break;
    budget.charge(field->name().size() + 4);
    if (field->is_map()) {
      object[field->name()] = summary_of_map(message, *field, budget);
    } else if (field->is_repeated()) {
      nlohmann::json list = nlohmann::json::array();
      for (int i = 0; i < message.GetReflection()->FieldSize(message, field) && budget.has_room(); ++i) {
        list.push_back(summary_of_value(message, *field, i, budget));
      }
      object[field->name()] = std::move(list);
    } else {
      object[field->name()] = summary_of_value(message, *field, 0, budget);
    }
  }
  return object;
}

}  // namespace

nlohmann::json request_summary(const Message& message) {
  SummaryBudget budget;
  nlohmann::json summary = summary_of_message(message, budget);
  if (budget.truncated && summary.is_object()) summary["(truncated)"] = true;
  return summary;
}

}  // namespace chaos::agent
