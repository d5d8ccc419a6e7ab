// The set of metric families one process exposes. Registration validates
// names against the Prometheus data model and promlint's conventions
// (counters end in _total, no reserved label names) and throws
// std::invalid_argument on a bad name: that is a programming error caught at
// start-up, not an environment failure.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/family.h"

namespace chaos::metrics {

class Registry {
 public:
  CounterFamily& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names, std::vector<double> upper_bounds);

  // Families in registration order.
  std::vector<const FamilyBase*> families() const;

 private:
  template <typename Metric>
  Family<Metric>& add_family(const std::string& name, const std::string& help, MetricType type,
                             std::vector<std::string> label_names, std::vector<double> buckets);
  void check_new_family(const std::string& name, MetricType type,
                        const std::vector<std::string>& label_names) const;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

}  // namespace chaos::metrics
