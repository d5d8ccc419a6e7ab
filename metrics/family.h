// A metric family: one name, one help text, one type, a fixed list of label
// names, and one child metric per distinct set of label values.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "metrics/counter.h"
#include "metrics/gauge.h"
#include "metrics/histogram.h"

namespace chaos::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// One child's values at collection time.
struct SeriesSnapshot {
  std::vector<std::string> label_values;
  double value = 0.0;                        // counter / gauge
  std::optional<HistogramSnapshot> histogram;  // histogram
};

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  virtual std::vector<SeriesSnapshot> collect() const = 0;

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
};

template <typename Metric>
class Family final : public FamilyBase {
 public:
  using Factory = std::unique_ptr<Metric> (*)(const std::vector<double>&);

  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> buckets = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        buckets_(std::move(buckets)) {}

  // The child for these label values (in label-name order), created on first
  // use. The reference stays valid until remove() of the same values.
  Metric& with(const std::vector<std::string>& label_values);
  // Drops a child so its series disappears from the output (e.g. a fault
  // that ended). Unknown values are ignored.
  void remove(const std::vector<std::string>& label_values);

  std::vector<SeriesSnapshot> collect() const override;

 private:
  mutable std::mutex mutex_;
  std::vector<double> buckets_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

}  // namespace chaos::metrics
