// Typed, consuming access to a ParamMap for the spec builder: each getter
// parses one parameter and remembers it was used, so leftovers are reported
// as unknown parameters.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/experiment/fault_params.h"

namespace chaos::orchestrator {

class ParamReader {
 public:
  ParamReader(const ParamMap& params, std::string kind, std::string origin)
      : params_(params), kind_(std::move(kind)), origin_(std::move(origin)) {}

  bool has(const std::string& name) const { return params_.count(name) != 0; }
  StatusOr<std::optional<std::string>> text(const std::string& name);
  StatusOr<std::optional<std::chrono::nanoseconds>> duration(const std::string& name);
  StatusOr<std::optional<double>> percent(const std::string& name);
  StatusOr<std::optional<uint64_t>> unsigned_int(const std::string& name, uint64_t max);
  StatusOr<std::optional<int64_t>> signed_int(const std::string& name);
  StatusOr<std::vector<std::string>> list(const std::string& name);
  StatusOr<std::vector<std::string>> cidr_list(const std::string& name);
  StatusOr<std::vector<uint32_t>> port_list(const std::string& name);
  // One of `choices` (case-insensitive); returns its index.
  StatusOr<std::optional<size_t>> choice(const std::string& name, const std::vector<std::string>& choices);
  StatusOr<std::optional<uint64_t>> bit_rate(const std::string& name);

  Status missing(const std::string& name) const;
  // Error for the first parameter no getter asked for.
  Status check_all_used() const;
  Status error(const std::string& name, const std::string& message) const;

 private:
  const ParamValue* take(const std::string& name);
  StatusOr<std::optional<std::string>> scalar(const std::string& name);

  const ParamMap& params_;
  std::string kind_;
  std::string origin_;
  std::set<std::string> used_;
};

}  // namespace chaos::orchestrator
