#include "proto/fault_kinds.h"

#include <utility>

#include "common/check.h"

namespace chaos {

namespace {

using Kind = v1::FaultSpec::KindCase;

// Read once from the proto: every field of FaultSpec's `kind` oneof names
// its kind with the (fault_kind) option. A oneof case's value is its field
// number.
const std::vector<std::pair<Kind, std::string>>& kind_table() {
  static const std::vector<std::pair<Kind, std::string>> table = [] {
    std::vector<std::pair<Kind, std::string>> entries;
    const auto* oneof = v1::FaultSpec::descriptor()->FindOneofByName("kind");
    CHAOS_CHECK(oneof != nullptr, "chaos.v1.FaultSpec has no oneof 'kind'");
    for (int i = 0; i < oneof->field_count(); ++i) {
      const auto* field = oneof->field(i);
      const std::string& name = field->options().GetExtension(v1::fault_kind);
      CHAOS_CHECK(!name.empty(), "a field of chaos.v1.FaultSpec.kind has no (fault_kind) option");
      entries.emplace_back(static_cast<Kind>(field->number()), name);
    }
    return entries;
  }();
  return table;
}

}  // namespace

std::string fault_kind_name(Kind kind_case) {
  for (const auto& [kind, name] : kind_table()) {
    if (kind == kind_case) return name;
  }
  return {};
}

std::string fault_kind_name(const v1::FaultSpec& spec) { return fault_kind_name(spec.kind_case()); }

Kind fault_kind_from_name(const std::string& name) {
  for (const auto& [kind, known] : kind_table()) {
    if (known == name) return kind;
  }
  return v1::FaultSpec::KIND_NOT_SET;
}

const std::vector<std::string>& all_fault_kind_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const auto& entry : kind_table()) list.push_back(entry.second);
    return list;
  }();
  return names;
}

}  // namespace chaos
