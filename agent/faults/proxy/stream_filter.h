// The contract between the agent's transparent TCP proxy (which owns the
// sockets, the timers and the nftables redirect) and what a tcp.*, http.* or
// nats.* fault does to the bytes of one proxied connection. A filter never
// touches a socket or a clock: it is handed bytes as they arrive and says
// what to forward, when, and whether to answer or close, so protocol logic is
// unit- and fuzz-tested without the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace chaos::agent::proxy {

enum class Direction {
  kClientToServer,  // from the side that opened the connection
  kServerToClient,
};

// Bytes to forward to the other side.
struct Emit {
  std::string bytes;
  // Sent no earlier than the arrival of the input that produced it plus
  // this delay.
  Duration delay{0};
  // True: never sent before anything emitted earlier in the same direction
  // (a byte stream: tcp.latency, a slow HTTP response). False: later bytes
  // may overtake it, so a protocol fault delays one message (a JetStream
  // ack) and not the connection; only whole protocol messages set it.
  bool hold_order = true;
  // True: written to the socket on its own (one send, TCP_NODELAY), never
  // coalesced with the bytes around it (tcp.slicer's segments).
  bool own_segment = false;
};

// While the agent's proxy byte budget is used up, a connection whose
// filter holds more than this back is not read until the budget frees; if
// nothing queued anywhere can free it, the engine asks the filter to
// stop_holding().
inline constexpr std::size_t kProxyHeldWhileOverBudget = 16 * 1024;
inline constexpr std::string_view kProxyBudgetPassThroughReason =
    "the agent's proxy byte budget ([proxy] max_buffered_bytes) is used up";

// FilterVerdict::end_delay that keeps a side's FIN from the other side
// until the connection is closed (or the proxy stops).
inline constexpr Duration kHoldEnd = Duration::max();

enum class CloseAction {
  kNone,
  kClose,  // FIN both ways after what was emitted so far is sent
  kReset,  // RST both ways at once (SO_LINGER 0), dropping what is queued
};

struct FilterVerdict {
  std::vector<Emit> forward;
  // Sent back to the side the input came from, before anything queued
  // later (a NATS -ERR, an HTTP error response).
  std::string reply;
  CloseAction close = CloseAction::kNone;
  // Delay before `close` takes effect, from the input's arrival
  // (tcp.timeout, tcp.reset_peer after T).
  Duration close_after{0};
  // From on_end() only: the side's FIN is forwarded no earlier than this
  // after its arrival (and after what was emitted before it); kHoldEnd:
  // never (tcp.slow_close, tcp.timeout).
  Duration end_delay{0};
};

// What the proxy knows about a connection when it is accepted.
struct ConnectionInfo {
  std::uint64_t id = 0;  // unique per proxy, in accept order
  std::string client;    // "10.0.0.2:41234"
  std::string server;    // the original destination, "10.0.0.3:4222"
};

// One connection, both directions. Called from the proxy's event thread
// only, never concurrently. Must not throw (the proxy treats an exception
// as kReset and counts it) and must bound what it buffers: a filter that
// holds back bytes (an incomplete protocol line) keeps at most its stated
// limit and otherwise passes the bytes through unparsed.
class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  virtual FilterVerdict on_bytes(Direction from, std::string_view input, SteadyTime now) = 0;
  // The side `from` closed its sending half (read EOF). What the filter
  // still holds for the other side is returned to be forwarded.
  virtual FilterVerdict on_end(Direction from, SteadyTime now) = 0;
  // The connection was accepted (its upstream connect has started): for a
  // filter that acts on time alone, before any byte (tcp.reset_peer after
  // T). Called once, before any on_bytes(). Default: nothing.
  virtual FilterVerdict on_open(SteadyTime now) {
    (void)now;
    return {};
  }
  // True: from now on the filter neither reads nor changes the bytes that
  // `from` sends, and holds none of them back. The engine then stops
  // calling on_bytes() for that direction: it sends the bytes from its read
  // buffer, or (option) relays them inside the kernel with splice() through
  // a pipe; on_end() is still called at its EOF
  // (an end delay still applies). Once true it must stay true. Default
  // false: every byte goes through on_bytes(), so a filter that does not
  // say otherwise keeps seeing everything.
  virtual bool passes_through(Direction from) const noexcept {
    (void)from;
    return false;
  }
  // Bytes the filter holds back in both directions (a protocol message
  // waiting for the rest of itself): counted in the agent's proxy byte
  // budget with what the connection has queued. Default: none.
  virtual std::size_t held_bytes() const noexcept { return 0; }
  // The agent's proxy byte budget is used up by what filters hold alone and
  // this filter holds more than the engine allows it then
  // (kProxyHeldWhileOverBudget): the filter gives back what it holds from
  // `from` and stops holding bytes back for the rest of the connection (it
  // may pass it through). The default does nothing: a filter that holds
  // little (an HTTP head) is then read on, within its own bounds.
  virtual FilterVerdict stop_holding(Direction from, SteadyTime now) {
    (void)from;
    (void)now;
    return {};
  }
};

// Made once per fault; decides per accepted connection (a percentage of
// connections is faulted, the rest get a pass-through filter).
class StreamFilterFactory {
 public:
  virtual ~StreamFilterFactory() = default;
  virtual std::unique_ptr<StreamFilter> make(const ConnectionInfo& connection) = 0;
};

}  // namespace chaos::agent::proxy
