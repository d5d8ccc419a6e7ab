// Traffic the network benchmarks measure with (loopback-free: between the
// benchmark's own namespaces only).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace chaos::bench {

// `count` UDP probes to an echo server on each of `ports`, each port one
// every `gap_us` without waiting for answers, the ports taking turns spread
// over the gap (to within a millisecond: poll waits in whole ones), so a port
// with a fault and one without see the same moments of the machine; per
// port, per answered probe, in send order:
// - rtt_ms: send to the moment this thread read the answer;
// - to_kernel_ms: send to the answer's kernel receive timestamp on this
//   side (SO_TIMESTAMPNS), which leaves out how late this thread woke for
//   it (after a long wait, an idle vCPU wakes tens of microseconds later
//   than after a short one).
struct PacedRtts {
  std::vector<double> rtt_ms;
  std::vector<double> to_kernel_ms;
};
std::vector<PacedRtts> paced_rtts(const std::string& address, const std::vector<int>& ports, int count, int gap_us);

// `count` UDP probes to an echo server, one every `gap_us` without waiting
// for answers (so a 200 ms delay does not make the run 200 ms per probe);
// the round-trip time of each answered probe in ms, in send order.
std::vector<double> paced_rtts_ms(const std::string& address, int port, int count, int gap_us);

// One-way times A->B in ms of `count` UDP datagrams, one every `gap_us`, to
// a receiver of our own in `receiver_namespace` on address:port: the
// kernel's receive timestamp in B (SO_TIMESTAMPNS, taken when the datagram
// enters B's stack) minus the send time, in send order. Unlike an RTT it
// leaves out when the receiving threads get to run, which on a loaded VM
// differs between a baseline and a delayed packet (the delay lets their
// CPUs go idle); what remains is the path itself.
std::vector<double> paced_one_way_ms(const std::string& receiver_namespace, const std::string& address, int port,
                                     int count, int gap_us);

// Bytes per second of `streams` parallel TCP streams together from the
// calling thread's namespace to a receiver started in `receiver_namespace`
// on address:port, for `seconds`. nullopt when a stream could not be set up.
std::optional<double> tcp_throughput_bytes_per_second(const std::string& receiver_namespace,
                                                      const std::string& address, int port, double seconds,
                                                      int streams = 1);

}  // namespace chaos::bench
