#include <algorithm>
#include <cctype>

#include "agent/targets/container_selector_checks.h"

namespace chaos::agent {

namespace {

constexpr std::size_t kMaxSelectorText = 253;  // a DNS-style name or a label value
constexpr int kMaxLabels = 32;

bool printable(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= 0x21 && c < 0x7f; });
}

Status check_text(const std::string& value, const std::string& field) {
  if (value.size() > kMaxSelectorText) {
    return invalid_argument(field + ": at most " + std::to_string(kMaxSelectorText) + " characters");
  }
  if (!printable(value)) return invalid_argument(field + ": printable characters only, no spaces");
  return {};
}

Status check_labels(const google::protobuf::Map<std::string, std::string>& labels, const std::string& field) {
  if (labels.size() > static_cast<std::size_t>(kMaxLabels)) {
    return invalid_argument(field + ": at most " + std::to_string(kMaxLabels) + " labels");
  }
  for (const auto& [key, value] : labels) {
    if (key.empty()) return invalid_argument(field + ": a label key is empty");
    CHAOS_RETURN_IF_ERROR(check_text(key, field + " key"));
    CHAOS_RETURN_IF_ERROR(check_text(value, field + "." + key));
  }
  return {};
}

std::string join_labels(const google::protobuf::Map<std::string, std::string>& labels) {
  std::vector<std::string> pairs;
  for (const auto& [key, value] : labels) pairs.push_back(key + "=" + value);
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& pair : pairs) out += (out.empty() ? "" : ",") + pair;
  return "{" + out + "}";
}

}  // namespace

Status validate_container_selector(const v1::ContainerSelector& selector, const std::string& field) {
  if (!selector.runtime().empty() && selector.runtime() != "podman" && selector.runtime() != "docker" &&
      selector.runtime() != "containerd") {
    return invalid_argument(field + ".runtime: '" + selector.runtime() + "' is not one of podman, docker, containerd");
  }
  CHAOS_RETURN_IF_ERROR(check_text(selector.name(), field + ".name"));
  if (!selector.id_prefix().empty()) {
    const auto& prefix = selector.id_prefix();
    if (prefix.size() < 4 || prefix.size() > 64 ||
        !std::all_of(prefix.begin(), prefix.end(), [](unsigned char c) { return std::isxdigit(c) != 0; })) {
      return invalid_argument(field + ".id_prefix: 4 to 64 hex characters");
    }
  }
  CHAOS_RETURN_IF_ERROR(check_labels(selector.labels(), field + ".labels"));
  CHAOS_RETURN_IF_ERROR(check_text(selector.pod_namespace(), field + ".pod_namespace"));
  CHAOS_RETURN_IF_ERROR(check_text(selector.pod_name(), field + ".pod_name"));
  CHAOS_RETURN_IF_ERROR(check_labels(selector.pod_labels(), field + ".pod_labels"));
  CHAOS_RETURN_IF_ERROR(check_text(selector.container_name(), field + ".container_name"));
  const bool pod_part = !selector.pod_name().empty() || !selector.pod_labels().empty() ||
                        !selector.container_name().empty();
  if (pod_part && selector.pod_namespace().empty()) {
    return invalid_argument(field + ".pod_namespace: required with pod_name, pod_labels or container_name");
  }
  const bool anything = !selector.name().empty() || !selector.id_prefix().empty() || !selector.labels().empty() ||
                        !selector.pod_namespace().empty();
  if (!anything) {
    return invalid_argument(field + ": name, id_prefix, labels or pod_namespace required (an empty selector would "
                                    "match every container on the node)");
  }
  if (!(selector.percent() >= 0.0 && selector.percent() <= 100.0)) {
    return invalid_argument(field + ".percent: must be in [0, 100]");
  }
  if (selector.count() > 0 && selector.percent() > 0.0) {
    return invalid_argument(field + ": count and percent are exclusive");
  }
  return {};
}

std::string describe_selector(const v1::ContainerSelector& selector) {
  std::string out = (selector.runtime().empty() ? std::string("any runtime") : selector.runtime()) + " container";
  if (!selector.name().empty()) out += " name=" + selector.name();
  if (!selector.id_prefix().empty()) out += " id=" + selector.id_prefix() + "...";
  if (!selector.labels().empty()) out += " labels" + join_labels(selector.labels());
  if (!selector.pod_namespace().empty()) out += " pod_namespace=" + selector.pod_namespace();
  if (!selector.pod_name().empty()) out += " pod_name=" + selector.pod_name();
  if (!selector.pod_labels().empty()) out += " pod_labels" + join_labels(selector.pod_labels());
  if (!selector.container_name().empty()) out += " container_name=" + selector.container_name();
  return out;
}

std::string describe_container(const v1::ContainerRef& container) {
  std::string out = container.runtime() + " " + (container.name().empty() ? "?" : container.name());
  out += " (" + container.id().substr(0, 12) + ")";
  return out;
}

}  // namespace chaos::agent
