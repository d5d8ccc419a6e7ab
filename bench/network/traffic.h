// Traffic the network benchmarks measure with (loopback-free: between the
// benchmark's own namespaces only).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace chaos::bench {

// `count` UDP probes to an echo server, one every `gap_us` without waiting
// for answers (so a 200 ms delay does not make the run 200 ms per probe);
// the round-trip time of each answered probe in ms, in send order.
std::vector<double> paced_rtts_ms(const std::string& address, int port, int count, int gap_us);

// Bytes per second of `streams` parallel TCP streams together from the
// calling thread's namespace to a receiver started in `receiver_namespace`
// on address:port, for `seconds`. nullopt when a stream could not be set up.
std::optional<double> tcp_throughput_bytes_per_second(const std::string& receiver_namespace,
                                                      const std::string& address, int port, double seconds,
                                                      int streams = 1);

}  // namespace chaos::bench
