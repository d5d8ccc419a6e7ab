#include "metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace chaos::metrics {

namespace {

// [a-zA-Z_][a-zA-Z0-9_]*: the data model's name rule without colons, which
// are reserved for recording rules.
bool is_valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void check_metric_name(const std::string& name, MetricType type) {
  if (!is_valid_name(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
  const bool counter_suffix = ends_with(name, "_total");
  if (type == MetricType::kCounter && !counter_suffix) {
    throw std::invalid_argument("counter '" + name + "' must end in _total");
  }
  if (type != MetricType::kCounter && counter_suffix) {
    throw std::invalid_argument("only counters end in _total: '" + name + "'");
  }
  for (const char* reserved : {"_bucket", "_count", "_sum"}) {
    if (ends_with(name, reserved)) {
      throw std::invalid_argument("metric name '" + name + "' ends in reserved suffix " + reserved);
    }
  }
}

void check_label_names(const std::string& metric, const std::vector<std::string>& label_names,
                       MetricType type) {
  for (const auto& label : label_names) {
    if (!is_valid_name(label) || label.rfind("__", 0) == 0) {
      throw std::invalid_argument("metric " + metric + ": invalid label name '" + label + "'");
    }
    if (type == MetricType::kHistogram && label == "le") {
      throw std::invalid_argument("histogram " + metric + " must not use the label 'le'");
    }
  }
  auto sorted = label_names;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    throw std::invalid_argument("metric " + metric + ": duplicate label name");
  }
}

void check_buckets(const std::string& metric, const std::vector<double>& bounds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      throw std::invalid_argument("histogram " + metric + ": bucket bounds must be finite and increasing");
    }
  }
}

}  // namespace

void Registry::check_new_family(const std::string& name, MetricType type,
                                const std::vector<std::string>& label_names) const {
  check_metric_name(name, type);
  check_label_names(name, label_names, type);
  for (const auto& family : families_) {
    if (family->name() == name) throw std::invalid_argument("metric '" + name + "' registered twice");
  }
}

template <typename Metric>
Family<Metric>& Registry::add_family(const std::string& name, const std::string& help, MetricType type,
                                     std::vector<std::string> label_names, std::vector<double> buckets) {
  std::lock_guard lock(mutex_);
  check_new_family(name, type, label_names);
  if (type == MetricType::kHistogram) check_buckets(name, buckets);
  auto family = std::make_unique<Family<Metric>>(name, help, type, std::move(label_names), std::move(buckets));
  auto& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  return add_family<Counter>(name, help, MetricType::kCounter, std::move(label_names), {});
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names) {
  return add_family<Gauge>(name, help, MetricType::kGauge, std::move(label_names), {});
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> upper_bounds) {
  return add_family<Histogram>(name, help, MetricType::kHistogram, std::move(label_names),
                               std::move(upper_bounds));
}

std::vector<const FamilyBase*> Registry::families() const {
  std::lock_guard lock(mutex_);
  std::vector<const FamilyBase*> result;
  result.reserve(families_.size());
  for (const auto& family : families_) result.push_back(family.get());
  return result;
}

}  // namespace chaos::metrics
