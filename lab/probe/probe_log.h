// chaos-probe's stderr lines: "2026-12-03T08:54:15.123Z chaos-probe: ...",
// each written whole, so the publisher's and the consumer's lines never
// interleave and a finding can be lined up with the brokers' own logs.
#pragma once

#include <string_view>

namespace chaos::lab::probe {

void probe_log(std::string_view message);

}  // namespace chaos::lab::probe
