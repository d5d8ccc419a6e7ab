// The shape of the agent's requests, taken from protobuf's descriptors once
// at start-up, so that summarising a request for the audit log walks its
// wire bytes with this table instead of protobuf's reflection. Reflection's
// code (descriptor lookups, field accessors) is not touched again after the
// start-up release (agent/startup_memory.h); used per call, it mapped about
// 0.7 MiB of libprotobuf back into every agent at its first Inject.
#pragma once

#include <google/protobuf/descriptor.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace chaos::agent {

struct MessageSchema;

struct EnumSchema {
  std::map<int, std::string> names;  // number -> name

  static EnumSchema of(const google::protobuf::EnumDescriptor& type);
  // The value's name; a number the enum lacks as its digits.
  std::string name_of(int number) const;
};

struct FieldSchema {
  std::string name;
  int number = 0;
  google::protobuf::FieldDescriptor::Type type = google::protobuf::FieldDescriptor::TYPE_INT32;
  bool repeated = false;
  bool map = false;                        // a repeated entry message {key = 1, value = 2}
  const MessageSchema* message = nullptr;  // TYPE_MESSAGE
  const EnumSchema* enumeration = nullptr;  // TYPE_ENUM
};

// google.protobuf.Duration and Timestamp have a JSON form of their own.
enum class WellKnownType { kNone, kDuration, kTimestamp };

struct MessageSchema {
  std::string full_name;
  WellKnownType well_known = WellKnownType::kNone;
  std::vector<FieldSchema> fields;  // by number

  // nullptr for a number the schema does not know (an unknown field).
  const FieldSchema* field(int number) const;
};

class RequestSchema {
 public:
  // The request type of each method of `service`, and every message and
  // enum they reach.
  static RequestSchema for_service(const google::protobuf::ServiceDescriptor& service);
  // `types` and every message and enum they reach (tests; other messages).
  static RequestSchema for_messages(const std::vector<const google::protobuf::Descriptor*>& types);

  // nullptr when unknown.
  const MessageSchema* request_of(std::string_view method) const;
  const MessageSchema* message(std::string_view full_name) const;

 private:
  const MessageSchema* add(const google::protobuf::Descriptor& type);
  const EnumSchema* add(const google::protobuf::EnumDescriptor& type);

  std::map<std::string, std::unique_ptr<MessageSchema>, std::less<>> messages_;
  std::map<std::string, std::unique_ptr<EnumSchema>, std::less<>> enums_;
  std::map<std::string, const MessageSchema*, std::less<>> requests_;
};

}  // namespace chaos::agent
