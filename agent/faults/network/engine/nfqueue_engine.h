// The userspace packet engine for kernels without sch_netem: binds one
// NFQUEUE queue and hands each packet to a PacketHolder, which decides,
// holds and releases it (NF_ACCEPT at release time, or, for packets of
// local sockets, NF_DROP at once and a re-send of our copy at release time;
// see packet_holder.h for why). One thread per queue, woken by the netlink socket, a
// CLOCK_MONOTONIC timerfd (sub-millisecond precision) and a stop eventfd.
//
// Safety: the queue is configured fail-open (a full queue accepts instead of
// dropping) and the steering rules use --queue-bypass, so if this process
// dies the kernel lets packets through instead of blackholing the node.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include <string>

#include "agent/faults/network/engine/impairment_model.h"
#include "agent/faults/network/engine/packet_holder.h"
#include "agent/faults/network/engine/wake_up_latency.h"
#include "common/clock.h"
#include "common/status.h"

namespace chaos::agent::network {

// Bounds the spin before one release (see Io::release_due_and_rearm): wake-up
// latencies above it are paid as lateness rather than as CPU.
inline constexpr Duration kMaxSpinBeforeRelease = std::chrono::microseconds(250);

// The most a held packet leaves sooner than its delay after it reached the
// queue. The engine dates a delay from the packet's estimated arrival, its
// typical wake-up latency before the engine read it (wake_up_latency.h): a
// packet read after a quicker wake-up leaves up to the difference early.
inline constexpr Duration kMaxEarlyRelease = WakeUpLatency::max_typical(kMaxSpinBeforeRelease);

struct EngineOptions {
  std::uint16_t queue_number = 0;
  ImpairmentSpec impairment;
  std::uint64_t seed = 1;
  // Kernel-side queue length; packets beyond it are accepted (fail-open).
  std::uint32_t queue_max_length = 4096;
  // Re-injected packets and duplicates are sent through raw sockets
  // carrying this mark so the steering rules let them pass instead of
  // queueing them again.
  std::uint32_t duplicate_mark = 0;
  // SCHED_FIFO priority of the engine thread, 0 for the normal scheduler.
  // On a busy node a normal thread wakes milliseconds late (measured: +4 ms
  // median on 2 cores running compilers); netem runs in softirq context
  // and does not suffer this. The kernel's RT throttling (95% by default)
  // still bounds what a runaway engine could take.
  int realtime_priority = 10;
  // When set, re-sent packets leave through this interface (the fault's).
  std::string egress_interface;
  // Off: every packet waits in the kernel for its verdict, as before the
  // re-send path existed (kept to measure the difference in bench/).
  bool reinject_local_packets = true;
  // Off: the kernel segments GSO packets before queueing and every segment
  // is re-sent through the raw socket, as before GsoPacketSender (kept to
  // measure the difference in bench/).
  bool resend_gso_whole = true;
  // Cap on the packet bytes this engine holds in userspace (see
  // PacketHolder); packets over it wait in the kernel instead.
  std::size_t max_held_bytes = kDefaultMaxHeldBytes;
  // An open /proc/PID/ns/net (a container's): the queue and the raw
  // sockets are opened inside that namespace, by a thread of the engine's
  // own that enters it. -1: the caller's namespace.
  int network_namespace_fd = -1;
};

// What a fault holds while its engine runs; faked in unit tests.
// Whether the engine may wake `margin` early and spin before a release
// (delay accuracy). Spinning pays off only with room to sleep before it:
// a release at least 4 margins away, so that at most a quarter of the time
// is spent spinning; and, when releases keep coming just that far apart
// (a few thousand per second), a budget of 5 ms of spinning per 100 ms
// window (5% of a core) keeps it from taking the core; past it, releases
// sleep to their deadline and run a wake-up latency late. Times are passed
// in, so this is unit-tested.
class SpinPolicy {
 public:
  static constexpr Duration kWindow = std::chrono::milliseconds(100);
  static constexpr Duration kBudget = std::chrono::milliseconds(5);
  static constexpr int kMinGapInMargins = 4;

  bool may_spin(SteadyTime now, SteadyTime next_release, Duration margin) {
    if (margin <= Duration{0} || next_release - now < kMinGapInMargins * margin) return false;
    roll(now);
    return spent_ + margin <= kBudget;
  }
  // A spin of `spun` ended at `now`.
  void spent(SteadyTime now, Duration spun) {
    roll(now);
    if (spun > Duration{0}) spent_ += spun;
  }

 private:
  void roll(SteadyTime now) {
    if (now - window_start_ >= kWindow) {
      window_start_ = now;
      spent_ = Duration{0};
    }
  }
  SteadyTime window_start_{};
  Duration spent_{0};
};

class PacketEngine {
 public:
  virtual ~PacketEngine() = default;
  virtual std::uint16_t queue_number() const = 0;
  virtual EngineStats stats() const = 0;
  // Empty while the engine works; otherwise why its thread stopped (an
  // exception or a fatal I/O error). The fault then ends (engine_failed).
  virtual std::string failure() const { return ""; }
};

class NfqueueEngine final : public PacketEngine {
 public:
  // Binds the queue (in the caller's network namespace, or in
  // options.network_namespace_fd's) and starts the thread. Fails with
  // ALREADY_EXISTS when another process owns the queue.
  static StatusOr<std::unique_ptr<NfqueueEngine>> start(const EngineOptions& options);
  // Releases every held packet at once, unbinds and joins the thread.
  ~NfqueueEngine() override;

  NfqueueEngine(const NfqueueEngine&) = delete;
  NfqueueEngine& operator=(const NfqueueEngine&) = delete;

  std::uint16_t queue_number() const override { return options_.queue_number; }
  EngineStats stats() const override;
  std::string failure() const override;
  // CPU time the engine's thread has used so far (bench/: ns per packet).
  std::chrono::nanoseconds thread_cpu_time() const;

 private:
  class Io;
  explicit NfqueueEngine(const EngineOptions& options);
  // Opens the sockets in the calling thread's network namespace.
  static StatusOr<std::unique_ptr<Io>> open_io(const EngineOptions& options);
  void enter_realtime() const;
  // The thread's body: nothing escapes it (an exception leaving a thread
  // would terminate the agent with every fault in place).
  void run() noexcept;
  void loop();
  void fail(const std::string& why);

  EngineOptions options_;
  std::unique_ptr<Io> io_;
  mutable std::mutex failure_mutex_;
  std::string failure_;
  std::thread thread_;
};

}  // namespace chaos::agent::network
