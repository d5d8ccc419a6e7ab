#include "agent/security/request_summary.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace chaos::agent {

namespace {

using google::protobuf::FieldDescriptor;

// Bounds the summary while it is built: a 256 KiB request (also from an
// unauthenticated caller) must not become megabytes of JSON nodes. Each
// value and name is charged about what it prints as; past the budget no
// field or element is added and long strings are cut.
constexpr std::size_t kSummaryBudgetBytes = 4096;
// Deeper than any request of ours; protobuf's own parser stops at 100.
constexpr int kMaxDepth = 64;

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

enum WireType : int { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };
constexpr int kMaxGroupDepth = 32;

// One value as it is on the wire: a number (varint or fixed) or bytes.
struct WireValue {
  int wire_type = kVarint;
  std::uint64_t number = 0;
  std::string_view bytes;
};

WireValue empty_value_of(int wire_type) {
  WireValue value;
  value.wire_type = wire_type;
  return value;
}

class WireReader {
 public:
  explicit WireReader(std::string_view wire) : rest_(wire) {}
  bool done() const { return rest_.empty(); }

  bool varint(std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (rest_.empty()) return false;
      const auto byte = static_cast<unsigned char>(rest_.front());
      rest_.remove_prefix(1);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }

  bool fixed(std::size_t size, std::uint64_t& value) {
    if (rest_.size() < size) return false;
    value = 0;
    for (std::size_t i = 0; i < size; ++i) {
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>(rest_[i])) << (8 * i);
    }
    rest_.remove_prefix(size);
    return true;
  }

  // A field: its number and value. False at malformed bytes (and groups,
  // which proto3 messages do not have).
  bool field(int& number, WireValue& value) {
    std::uint64_t tag = 0;
    if (!varint(tag) || (tag >> 3) == 0 || (tag >> 3) > 536870911) return false;
    number = static_cast<int>(tag >> 3);
    value = empty_value_of(static_cast<int>(tag & 7));
    return this->value(value);
  }

  bool value(WireValue& value) { return value_at_depth(value, 0); }

 private:
  // A group (wire types 3 and 4; proto3 has none, but protobuf keeps one
  // sent as an unknown field) is skipped whole: its value stays empty.
  bool value_at_depth(WireValue& value, int depth) {
    switch (value.wire_type) {
      case kStartGroup: {
        if (depth >= kMaxGroupDepth) return false;
        for (;;) {
          std::uint64_t tag = 0;
          if (!varint(tag)) return false;
          WireValue inner = empty_value_of(static_cast<int>(tag & 7));
          if (inner.wire_type == kEndGroup) return true;
          if (!value_at_depth(inner, depth + 1)) return false;
        }
      }
      case kVarint: return varint(value.number);
      case kFixed64: return fixed(8, value.number);
      case kFixed32: return fixed(4, value.number);
      case kLengthDelimited: {
        std::uint64_t size = 0;
        if (!varint(size) || size > rest_.size()) return false;
        value.bytes = rest_.substr(0, size);
        rest_.remove_prefix(size);
        return true;
      }
      default: return false;
    }
  }

  std::string_view rest_;
};

// The wire type a scalar of `type` has when not packed.
int scalar_wire_type(FieldDescriptor::Type type) {
  switch (type) {
    case FieldDescriptor::TYPE_DOUBLE:
    case FieldDescriptor::TYPE_FIXED64:
    case FieldDescriptor::TYPE_SFIXED64: return kFixed64;
    case FieldDescriptor::TYPE_FLOAT:
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_SFIXED32: return kFixed32;
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_BYTES:
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP: return kLengthDelimited;
    default: return kVarint;
  }
}

nlohmann::json summary_of_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

// A float prints with the digits that identify it as a float (0.1f as
// 0.1, as protobuf prints it), not as the double it widens to.
nlohmann::json summary_of_float(float value) {
  if (!std::isfinite(value)) return summary_of_double(value);
  char digits[32];
  const auto printed = std::to_chars(digits, digits + sizeof digits, value);
  double widened = 0;
  std::from_chars(digits, printed.ptr, widened);
  return widened;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      group = (group << 8) | (j < left ? static_cast<unsigned char>(bytes[i + j]) : 0u);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      text += j <= left ? kAlphabet[(group >> (18 - 6 * j)) & 0x3f] : '=';
    }
  }
  return text;
}

nlohmann::json summary_of_string(std::string_view text, SummaryBudget& budget) {
  if (text.size() <= budget.left) {
    budget.charge(text.size() + 2);
    return std::string(text);
  }
  budget.truncated = true;
  std::string cut(text.substr(0, budget.left));
  budget.charge(budget.left);
  return cut;
}

nlohmann::json summary_of_scalar(const FieldSchema& field, std::uint64_t raw) {
  const auto zigzag = [](std::uint64_t value) {
    return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
  };
  switch (field.type) {
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SFIXED32: return static_cast<std::int32_t>(raw);
    case FieldDescriptor::TYPE_SINT32: return static_cast<std::int32_t>(zigzag(raw & 0xffffffffu));
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32: return static_cast<std::uint32_t>(raw);
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SFIXED64: return std::to_string(static_cast<std::int64_t>(raw));
    case FieldDescriptor::TYPE_SINT64: return std::to_string(zigzag(raw));
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64: return std::to_string(raw);
    case FieldDescriptor::TYPE_DOUBLE: return summary_of_double(std::bit_cast<double>(raw));
    case FieldDescriptor::TYPE_FLOAT: return summary_of_float(std::bit_cast<float>(static_cast<std::uint32_t>(raw)));
    case FieldDescriptor::TYPE_BOOL: return raw != 0;
    case FieldDescriptor::TYPE_ENUM: {
      const auto number = static_cast<std::int32_t>(raw);
      if (field.enumeration != nullptr) {
        if (const auto found = field.enumeration->names.find(number); found != field.enumeration->names.end()) {
          return found->second;
        }
      }
      return number;
    }
    default: return nullptr;
  }
}

// "1.5s", "0.000001500s", "-5.000000001s": protobuf's Duration text.
std::string fraction_of(std::int32_t nanos) {
  char text[16];
  if (nanos % 1'000'000 == 0) {
    std::snprintf(text, sizeof text, "%03d", nanos / 1'000'000);
  } else if (nanos % 1'000 == 0) {
    std::snprintf(text, sizeof text, "%06d", nanos / 1'000);
  } else {
    std::snprintf(text, sizeof text, "%09d", nanos);
  }
  return text;
}

nlohmann::json summary_of_well_known(WellKnownType type, std::string_view wire) {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;
  WireReader reader(wire);
  int number = 0;
  WireValue value;
  while (reader.field(number, value)) {
    if (value.wire_type != kVarint) continue;
    if (number == 1) seconds = static_cast<std::int64_t>(value.number);
    if (number == 2) nanos = static_cast<std::int32_t>(value.number);
  }
  // Out of range (or a Duration with mixed signs), protobuf's printer
  // overflows or prints "--5s": such values are shown raw.
  const nlohmann::json raw = {{"seconds", std::to_string(seconds)}, {"nanos", nanos}};
  if (type == WellKnownType::kDuration) {
    constexpr std::int64_t kMaxDurationSeconds = 315'576'000'000;
    const bool in_range = seconds >= -kMaxDurationSeconds && seconds <= kMaxDurationSeconds &&
                          nanos > -1'000'000'000 && nanos < 1'000'000'000;
    const bool same_sign = !(seconds > 0 && nanos < 0) && !(seconds < 0 && nanos > 0);
    if (!in_range || !same_sign) return raw;
    const bool negative = seconds < 0 || nanos < 0;
    std::string text = (negative ? "-" : "") + std::to_string(negative ? -seconds : seconds);
    if (nanos != 0) text += "." + fraction_of(negative ? -nanos : nanos);
    return text + "s";
  }
  constexpr std::int64_t kMinTimestampSeconds = -62'135'596'800;  // 0001-01-01T00:00:00Z
  constexpr std::int64_t kMaxTimestampSeconds = 253'402'300'799;  // 9999-12-31T23:59:59Z
  if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds || nanos < 0 || nanos >= 1'000'000'000) {
    return raw;
  }
  using namespace std::chrono;
  const sys_seconds at{std::chrono::seconds(seconds)};
  const sys_days day = floor<days>(at);
  const year_month_day date(day);
  const hh_mm_ss<std::chrono::seconds> time(at - day);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return std::string(text) + (nanos != 0 ? "." + fraction_of(nanos) : "") + "Z";
}

class Summarizer {
 public:
  nlohmann::json message(const MessageSchema& type, std::string_view wire, int depth);
  SummaryBudget budget;
  bool malformed = false;

 private:
  // One element of a field (or the field): its value from the wire.
  nlohmann::json value(const FieldSchema& field, const WireValue& wire, int depth);
  // A field's value when an entry of a map leaves it out.
  nlohmann::json default_value(const FieldSchema& field, int depth);
  nlohmann::json map_entry_key(const FieldSchema& entry_field, std::string_view entry, nlohmann::json& value,
                               int depth);
};

nlohmann::json Summarizer::value(const FieldSchema& field, const WireValue& wire, int depth) {
  if (field.type == FieldDescriptor::TYPE_MESSAGE) {
    if (field.message == nullptr) return nlohmann::json::object();
    return message(*field.message, wire.bytes, depth + 1);
  }
  if (field.type == FieldDescriptor::TYPE_STRING) return summary_of_string(wire.bytes, budget);
  if (field.type == FieldDescriptor::TYPE_BYTES) {
    // Cut before encoding: a summary is bounded, not necessarily decodable.
    return summary_of_string(base64(wire.bytes.substr(0, budget.left)), budget);
  }
  constexpr std::size_t kScalarBytes = 8;  // a number, a bool, an enum name
  budget.charge(kScalarBytes);
  return summary_of_scalar(field, wire.number);
}

nlohmann::json Summarizer::default_value(const FieldSchema& field, int depth) {
  const WireValue empty = empty_value_of(scalar_wire_type(field.type));
  return value(field, empty, depth);
}

// The key of a map entry as the JSON object's key; `value` gets the value.
nlohmann::json Summarizer::map_entry_key(const FieldSchema& entry_field, std::string_view entry,
                                         nlohmann::json& value, int depth) {
  const MessageSchema* entry_type = entry_field.message;
  const FieldSchema* key_field = entry_type != nullptr ? entry_type->field(1) : nullptr;
  const FieldSchema* value_field = entry_type != nullptr ? entry_type->field(2) : nullptr;
  if (key_field == nullptr || value_field == nullptr) return nullptr;
  std::optional<WireValue> key_wire;
  std::optional<WireValue> value_wire;
  WireReader reader(entry);
  int number = 0;
  WireValue wire;
  while (reader.field(number, wire)) {
    if (number == 1 && wire.wire_type == scalar_wire_type(key_field->type)) key_wire = wire;
    if (number == 2 && wire.wire_type == scalar_wire_type(value_field->type)) value_wire = wire;
  }
  nlohmann::json key = key_wire ? this->value(*key_field, *key_wire, depth) : default_value(*key_field, depth);
  value = value_wire ? this->value(*value_field, *value_wire, depth) : default_value(*value_field, depth);
  return key;
}

nlohmann::json Summarizer::message(const MessageSchema& type, std::string_view wire, int depth) {
  // Each message and element is charged too, so that empty ones (two
  // bytes on the wire each) cannot build an unbounded summary.
  constexpr std::size_t kMessageBytes = 2;
  budget.charge(kMessageBytes);
  if (type.well_known != WellKnownType::kNone) {
    budget.charge(32);
    return summary_of_well_known(type.well_known, wire);
  }
  nlohmann::json object = nlohmann::json::object();
  if (depth > kMaxDepth) {
    malformed = true;
    return object;
  }
  WireReader reader(wire);
  const FieldSchema* current = nullptr;  // the field the last value was of
  while (!reader.done()) {
    int number = 0;
    WireValue wire_value;
    if (!reader.field(number, wire_value)) {
      malformed = true;
      break;
    }
    const FieldSchema* field = type.field(number);
    if (field == nullptr) continue;  // unknown to the schema: left out
    const int expected = scalar_wire_type(field->type);
    const bool packed = field->repeated && !field->map && wire_value.wire_type == kLengthDelimited &&
                        expected != kLengthDelimited;
    // Not what the schema says: protobuf kept it as an unknown field.
    if (!packed && wire_value.wire_type != expected) continue;
    if (field != current) {
      if (!budget.has_room()) break;
      current = field;
      if (!object.contains(field->name)) {
        budget.charge(field->name.size() + 4);
        if (field->map) {
          object[field->name] = nlohmann::json::object();
        } else if (field->repeated) {
          object[field->name] = nlohmann::json::array();
        }
      }
    }
    constexpr std::size_t kElementBytes = 1;
    if (packed) {
      WireReader elements(wire_value.bytes);
      WireValue element = empty_value_of(expected);
      while (!elements.done() && budget.has_room()) {
        if (!elements.value(element)) {
          malformed = true;
          break;
        }
        budget.charge(kElementBytes);
        object[field->name].push_back(value(*field, element, depth));
      }
    } else if (field->map) {
      if (!budget.has_room()) continue;
      budget.charge(kElementBytes);
      nlohmann::json entry_value;
      const nlohmann::json key = map_entry_key(*field, wire_value.bytes, entry_value, depth);
      if (key.is_null()) continue;
      object[field->name][key.is_string() ? key.get<std::string>() : key.dump()] = std::move(entry_value);
    } else if (field->repeated) {
      if (!budget.has_room()) continue;
      budget.charge(kElementBytes);
      object[field->name].push_back(value(*field, wire_value, depth));
    } else {
      object[field->name] = value(*field, wire_value, depth);
    }
  }
  return object;
}

}  // namespace

nlohmann::json request_summary(const MessageSchema& type, std::string_view wire) {
  Summarizer summarizer;
  nlohmann::json summary = summarizer.message(type, wire, 0);
  if ((summarizer.budget.truncated || summarizer.malformed) && summary.is_object()) summary["(truncated)"] = true;
  return summary;
}

nlohmann::json request_summary(const MessageSchema& type, const google::protobuf::MessageLite& message) {
  return request_summary(type, message.SerializeAsString());
}

}  // namespace chaos::agent
