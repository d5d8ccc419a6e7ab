#include "agent/security/request_summary.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <cmath>
#include <vector>

namespace chaos::agent {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

nlohmann::json summary_of_message(const Message& message);

nlohmann::json summary_of_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

// One value of a field: element `index` of a repeated field, or the field.
nlohmann::json summary_of_value(const Message& message, const FieldDescriptor& field, int index) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = field.is_repeated();
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
    case FieldDescriptor::CPPTYPE_STRING:
      return repeated ? reflection.GetRepeatedString(message, &field, index) : reflection.GetString(message, &field);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return summary_of_message(repeated ? reflection.GetRepeatedMessage(message, &field, index)
                                         : reflection.GetMessage(message, &field));
  }
  return nullptr;
}

// A map field is a repeated entry message {key, value}: a JSON object.
nlohmann::json summary_of_map(const Message& message, const FieldDescriptor& field) {
  nlohmann::json object = nlohmann::json::object();
  const Reflection& reflection = *message.GetReflection();
  const auto& entry_type = *field.message_type();
  for (int i = 0; i < reflection.FieldSize(message, &field); ++i) {
    const Message& entry = reflection.GetRepeatedMessage(message, &field, i);
    const nlohmann::json key = summary_of_value(entry, *entry_type.map_key(), 0);
    object[key.is_string() ? key.get<std::string>() : key.dump()] = summary_of_value(entry, *entry_type.map_value(), 0);
  }
  return object;
}

nlohmann::json summary_of_well_known(const Message& message, const std::string& name) {
  const Reflection& reflection = *message.GetReflection();
  const auto& type = *message.GetDescriptor();
  const std::int64_t seconds = reflection.GetInt64(message, type.FindFieldByName("seconds"));
  const std::int32_t nanos = reflection.GetInt32(message, type.FindFieldByName("nanos"));
  if (name == "google.protobuf.Duration") {
    google::protobuf::Duration duration;
    duration.set_seconds(seconds);
    duration.set_nanos(nanos);
    return google::protobuf::util::TimeUtil::ToString(duration);
  }
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(nanos);
  return google::protobuf::util::TimeUtil::ToString(timestamp);
}

nlohmann::json summary_of_message(const Message& message) {
  const std::string& name = message.GetDescriptor()->full_name();
  if (name == "google.protobuf.Duration" || name == "google.protobuf.Timestamp") {
    return summary_of_well_known(message, name);
  }
  nlohmann::json object = nlohmann::json::object();
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);  // the set ones, in field-number order
  for (const FieldDescriptor* field : fields) {
    if (field->is_map()) {
      object[field->name()] = summary_of_map(message, *field);
    } else if (field->is_repeated()) {
      nlohmann::json list = nlohmann::json::array();
      for (int i = 0; i < message.GetReflection()->FieldSize(message, field); ++i) {
        list.push_back(summary_of_value(message, *field, i));
      }
      object[field->name()] = std::move(list);
    } else {
      object[field->name()] = summary_of_value(message, *field, 0);
    }
  }
  return object;
}

}  // namespace

nlohmann::json request_summary(const Message& message) { return summary_of_message(message); }

}  // namespace chaos::agent
