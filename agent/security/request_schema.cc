#include "agent/security/request_schema.h"

#include <algorithm>

namespace chaos::agent {

EnumSchema EnumSchema::of(const google::protobuf::EnumDescriptor& type) {
  EnumSchema schema;
  for (int i = 0; i < type.value_count(); ++i) {
    // An alias keeps the first name, as protobuf's FindValueByNumber does.
    schema.names.emplace(type.value(i)->number(), type.value(i)->name());
  }
  return schema;
}

std::string EnumSchema::name_of(int number) const {
  const auto found = names.find(number);
  return found != names.end() ? found->second : std::to_string(number);
}

const FieldSchema* MessageSchema::field(int number) const {
  const auto found = std::lower_bound(fields.begin(), fields.end(), number,
                                      [](const FieldSchema& field, int wanted) { return field.number < wanted; });
  return found != fields.end() && found->number == number ? &*found : nullptr;
}

RequestSchema RequestSchema::for_service(const google::protobuf::ServiceDescriptor& service) {
  RequestSchema schema;
  for (int i = 0; i < service.method_count(); ++i) {
    const auto& method = *service.method(i);
    schema.requests_[method.name()] = schema.add(*method.input_type());
  }
  return schema;
}

RequestSchema RequestSchema::for_messages(const std::vector<const google::protobuf::Descriptor*>& types) {
  RequestSchema schema;
  for (const auto* type : types) schema.add(*type);
  return schema;
}

const MessageSchema* RequestSchema::request_of(std::string_view method) const {
  const auto found = requests_.find(method);
  return found == requests_.end() ? nullptr : found->second;
}

const MessageSchema* RequestSchema::message(std::string_view full_name) const {
  const auto found = messages_.find(full_name);
  return found == messages_.end() ? nullptr : found->second.get();
}

const MessageSchema* RequestSchema::add(const google::protobuf::Descriptor& type) {
  if (const auto found = messages_.find(type.full_name()); found != messages_.end()) return found->second.get();
  // Registered before its fields, so a message that reaches itself ends here.
  auto& schema = messages_[type.full_name()];
  schema = std::make_unique<MessageSchema>();
  MessageSchema* message = schema.get();
  message->full_name = type.full_name();
  if (message->full_name == "google.protobuf.Duration") message->well_known = WellKnownType::kDuration;
  if (message->full_name == "google.protobuf.Timestamp") message->well_known = WellKnownType::kTimestamp;
  for (int i = 0; i < type.field_count(); ++i) {
    const auto& descriptor = *type.field(i);
    FieldSchema field;
    field.name = descriptor.name();
    field.number = descriptor.number();
    field.type = descriptor.type();
    field.repeated = descriptor.is_repeated();
    field.map = descriptor.is_map();
    if (descriptor.message_type() != nullptr) field.message = add(*descriptor.message_type());
    if (descriptor.enum_type() != nullptr) field.enumeration = add(*descriptor.enum_type());
    message->fields.push_back(std::move(field));
  }
  std::sort(message->fields.begin(), message->fields.end(),
            [](const FieldSchema& a, const FieldSchema& b) { return a.number < b.number; });
  return message;
}

const EnumSchema* RequestSchema::add(const google::protobuf::EnumDescriptor& type) {
  auto& schema = enums_[type.full_name()];
  if (schema) return schema.get();
  schema = std::make_unique<EnumSchema>(EnumSchema::of(type));
  return schema.get();
}

}  // namespace chaos::agent
