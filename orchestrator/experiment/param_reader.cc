#include "orchestrator/experiment/param_reader.h"

#include <arpa/inet.h>
#include <strings.h>

#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/duration.h"

namespace chaos::orchestrator {

namespace {

bool parse_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out);
}

bool parse_u64(const std::string& text, uint64_t& out) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  errno = 0;
  out = std::strtoull(text.c_str(), nullptr, 10);
  return errno == 0;
}

bool is_ip_address(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

bool is_cidr(const std::string& text) {
  const auto slash = text.find('/');
  const std::string address = text.substr(0, slash);
  if (!is_ip_address(address)) return false;
  if (slash == std::string::npos) return true;
  uint64_t prefix = 0;
  const uint64_t max_prefix = address.find(':') == std::string::npos ? 32 : 128;
  return parse_u64(text.substr(slash + 1), prefix) && prefix <= max_prefix;
}

}  // namespace

Status ParamReader::error(const std::string& name, const std::string& message) const {
  const auto found = params_.find(name);
  const std::string& where =
      found != params_.end() && !found->second.origin.empty() ? found->second.origin : origin_;
  return invalid_argument(where + ": " + kind_ + " param '" + name + "': " + message);
}

Status ParamReader::missing(const std::string& name) const {
  return invalid_argument(origin_ + ": " + kind_ + " needs param '" + name + "'");
}

Status ParamReader::check_all_used() const {
  for (const auto& [name, value] : params_) {
    if (used_.count(name) == 0) return error(name, "unknown parameter for this fault kind");
  }
  return {};
}

const ParamValue* ParamReader::take(const std::string& name) {
  const auto found = params_.find(name);
  if (found == params_.end()) return nullptr;
  used_.insert(name);
  return &found->second;
}

StatusOr<std::optional<std::string>> ParamReader::scalar(const std::string& name) {
  const ParamValue* value = take(name);
  if (value == nullptr) return std::optional<std::string>();
  if (value->is_list || value->items.size() != 1) return error(name, "expected a single value, not a list");
  return std::optional<std::string>(value->items.front());
}

StatusOr<std::optional<std::string>> ParamReader::text(const std::string& name) {
  CHAOS_ASSIGN_OR_RETURN(auto value, scalar(name));
  if (value && value->empty()) return error(name, "must not be empty");
  return value;
}

StatusOr<std::optional<std::chrono::nanoseconds>> ParamReader::duration(const std::string& name) {
  CHAOS_ASSIGN_OR_RETURN(auto value, scalar(name));
  if (!value) return std::optional<std::chrono::nanoseconds>();
  auto parsed = parse_duration(*value);
  if (!parsed.ok()) return error(name, parsed.status().message());
  if (parsed->count() < 0) return error(name, "must not be negative");
  return std::optional<std::chrono::nanoseconds>(*parsed);
}

StatusOr<std::optional<double>> ParamReader::percent(const std::string& name) {
  CHAOS_ASSIGN_OR_RETURN(auto value, scalar(name));
  if (!value) return std::optional<double>();
  double number = 0;
  if (!parse_double(*value, number) || number < 0 || number > 100) {
    return error(name, "'" + *value + "' is not a percentage between 0 and 100");
  }
  return std::optional<double>(number);
}

StatusOr<std::optional<uint64_t>> ParamReader::unsigned_int(const std::string& name, uint64_t max) {
  CHAOS_ASSIGN_OR_RETURN(auto value, scalar(name));
  if (!value) return std::optional<uint64_t>();
  uint64_t number = 0;
  if (!parse_u64(*value, number) || number > max) {
    return error(name, "'" + *value + "' is not an integer between 0 and " + std::to_string(max));
  }
  return std::optional<uint64_t>(number);
}

StatusOr<std::optional<int64_t>> ParamReader::signed_int(const std::string& name) {
  CHAOS_ASSIGN_OR_RETURN(auto value, unsigned_int(name, std::numeric_limits<int32_t>::max()));
  if (!value) return std::optional<int64_t>();
  return std::optional<int64_t>(static_cast<int64_t>(*value));
}

StatusOr<std::vector<std::string>> ParamReader::list(const std::string& name) {
  const ParamValue* value = take(name);
  if (value == nullptr) return std::vector<std::string>();
  for (const auto& item : value->items) {
    if (item.empty()) return error(name, "list items must not be empty");
  }
  return value->items;
}

StatusOr<std::vector<std::string>> ParamReader::cidr_list(const std::string& name) {
  CHAOS_ASSIGN_OR_RETURN(auto items, list(name));
  for (const auto& item : items) {
    if (!is_cidr(item)) return error(name, "'" + item + "' is not an IP address or CIDR");
  }
  return items;
}

StatusOr<std::vector<uint32_t>> ParamReader::port_list(const std::string& name) {
  CHAOS_ASSIGN_OR_RETURN(auto items, list(name));
  std::vector<uint32_t> ports;
  for (const auto& item : items) {
    uint64_t port = 0;
    if (!parse_u64(item, port) || port == 0 || port > 65535) {
      return error(name, "'" + item + "' is not a port between 1 and 65535");
    }
    ports.push_back(static_cast<uint32_t>(port));
  }
  return ports;
}

StatusOr<std::optional<size_t>> ParamReader::choice(const std::string& name,
                                                     const std::vector<std::string>& choices) {
  CHAOS_ASSIGN_OR_RETURN(auto value, scalar(name));
  if (!value) return std::optional<size_t>();
  std::string allowed;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (strcasecmp(value->c_str(), choices[i].c_str()) == 0) return std::optional<size_t>(i);
    allowed += (i == 0 ? "" : "|") + choices[i];
  }
  return error(name, "'" + *value + "' is not one of " + allowed);
}

StatusOr<std::optional<uint64_t>> ParamReader::bit_rate(const std::string& name) {
  CHAOS_ASSIGN_OR_RETURN(auto value, scalar(name));
  if (!value) return std::optional<uint64_t>();
  static const std::vector<std::pair<std::string, double>> kUnits = {
      {"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}, {"", 1}};
  for (const auto& [suffix, factor] : kUnits) {
    if (value->size() < suffix.size() ||
        strcasecmp(value->c_str() + value->size() - suffix.size(), suffix.c_str()) != 0) {
      continue;
    }
    double number = 0;
    if (parse_double(value->substr(0, value->size() - suffix.size()), number) && number > 0 &&
        number * factor < 1e15) {
      return std::optional<uint64_t>(static_cast<uint64_t>(std::llround(number * factor)));
    }
    break;
  }
  return error(name, "'" + *value + "' is not a rate like \"1mbit\", \"500kbit\" or bits/s");
}

}  // namespace chaos::orchestrator
