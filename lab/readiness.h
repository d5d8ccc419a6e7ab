// Waiting for the lab's services during `up`: each check is one HTTP
// question that either passes or says why not; wait_until repeats it until
// a deadline and returns the last reason on timeout.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

using ReadinessCheck = std::function<Status()>;

Status wait_until(Clock& clock, Duration timeout, const std::string& what, const ReadinessCheck& check);

Status nats_healthy(const LabLayout& layout, int node);
// The JetStream meta group has a leader (the cluster formed).
Status jetstream_meta_leader(const LabLayout& layout);
Status agent_serving_metrics(const LabLayout& layout, int node);
Status probe_publishing(const LabLayout& layout);
Status prometheus_scraping_probe(const LabLayout& layout);
// Prometheus holds a sample of the probe scraped after `since` (seconds
// since the epoch) with at least one acknowledged publish: a restarted
// probe has been scraped, not only its predecessor.
Status prometheus_scraped_probe_since(const LabLayout& layout, std::int64_t since);
// Prometheus sees the probe's publishes >= 99% acknowledged over a full 10 s.
Status probe_in_steady_state(const LabLayout& layout);
// The inventory the supervisor keeps labels one node as the leader
// (`<label> = "true"`): experiments that target the leader need it.
Status inventory_labels_a_leader(const LabLayout& layout, const std::string& label);

// The value of an unlabelled sample `name` in Prometheus text, if present.
std::optional<double> sample_value(const std::string& exposition, const std::string& name);

}  // namespace chaos::lab
