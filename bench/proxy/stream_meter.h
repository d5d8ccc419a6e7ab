// One TCP stream measured for the proxy benchmarks: a receiver that counts
// bytes until EOF, a sender that writes 64 KiB chunks for a given time, and
// the CPU the process (and one of its threads) spent per GiB delivered.
// Shared by proxy_bench (127.0.0.1) and proxy_veth_bench (two namespaces).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>

#include "common/unique_fd.h"

namespace chaos::bench {

// What one stream achieved.
struct StreamFigures {
  double bytes_per_second = 0;
  // CPU of the whole process (sender, receiver and, when proxied, the
  // engine's thread) per GiB delivered: less disturbed by a busy machine
  // than the rate.
  double cpu_seconds_per_gib = 0;
  // Of that, the proxy engine's event thread alone (0 when direct).
  double engine_cpu_seconds_per_gib = 0;
  double gib = 0;  // delivered
};

// An IPv4 socket address; `ip` is a dotted quad.
sockaddr_in stream_address(const std::string& ip, std::uint16_t port);

// Listens on `address` (port 0: an ephemeral one) in the calling thread's
// network namespace and counts what its one connection delivers until EOF.
class StreamReceiver {
 public:
  explicit StreamReceiver(sockaddr_in address);
  ~StreamReceiver();
  StreamReceiver(const StreamReceiver&) = delete;
  StreamReceiver& operator=(const StreamReceiver&) = delete;

  bool ok() const { return port_ != 0; }
  std::uint16_t port() const { return port_; }
  std::uint64_t bytes() const { return bytes_.load(); }

 private:
  UniqueFd listener_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> bytes_{0};
  std::thread thread_;
};

// Connects to `to` from the calling thread's namespace and sends for
// `seconds` (or until `stop` turns true); zeros when nothing arrived.
StreamFigures measure_stream(const sockaddr_in& to, const StreamReceiver& receiver, double seconds,
                             const std::atomic<bool>* stop = nullptr);

// Thread ids of this process (/proc/self/task).
std::set<std::string> stream_thread_ids();
// CPU seconds (user + system) of one thread of this process, 0 if gone.
double stream_thread_cpu_seconds(const std::string& id);

// One path's stream of one round and the direct stream of that round.
struct RoundFigures {
  StreamFigures path;
  StreamFigures direct;
  // The path's rate over its own round's direct rate (0 without one).
  double ratio() const { return direct.bytes_per_second > 0 ? path.bytes_per_second / direct.bytes_per_second : 0.0; }
};

// The best of the rounds for one path: the whole round with the highest
// rate (its CPU per GiB from that same stream, its ratio to that round's
// direct stream), never figures mixed from different rounds.
void keep_best(RoundFigures& best, const StreamFigures& path, const StreamFigures& direct);

}  // namespace chaos::bench
