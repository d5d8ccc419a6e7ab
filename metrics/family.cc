#include "metrics/family.h"

#include <cassert>

namespace chaos::metrics {

namespace {

template <typename Metric>
std::unique_ptr<Metric> make_child(const std::vector<double>& buckets) {
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return std::make_unique<Histogram>(buckets);
  } else {
    (void)buckets;
    return std::make_unique<Metric>();
  }
}

template <typename Metric>
SeriesSnapshot snapshot_of(const std::vector<std::string>& labels, const Metric& metric) {
  SeriesSnapshot series;
  series.label_values = labels;
  if constexpr (std::is_same_v<Metric, Histogram>) {
    series.histogram = metric.snapshot();
  } else {
    series.value = metric.value();
  }
  return series;
}

}  // namespace

template <typename Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names().size()) {
    throw std::invalid_argument("metric " + name() + " takes " + std::to_string(label_names().size()) +
                                " label values, got " + std::to_string(label_values.size()));
  }
  std::lock_guard lock(mutex_);
  auto& child = children_[label_values];
  if (!child) child = make_child<Metric>(buckets_);
  return *child;
}

template <typename Metric>
void Family<Metric>::remove(const std::vector<std::string>& label_values) {
  std::lock_guard lock(mutex_);
  children_.erase(label_values);
}

template <typename Metric>
std::vector<SeriesSnapshot> Family<Metric>::collect() const {
  std::lock_guard lock(mutex_);
  std::vector<SeriesSnapshot> series;
  series.reserve(children_.size());
  for (const auto& [labels, metric] : children_) series.push_back(snapshot_of(labels, *metric));
  return series;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace chaos::metrics
