// The bytes of one direction of a proxied connection on their way out:
// chunks a filter emitted, each due at a time, and the contiguous buffer of
// what is due and not yet written. Pure (no sockets, no clock): the proxy
// engine feeds it and writes ready() to the socket.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace chaos::agent::proxy {

class DirectionQueue {
 public:
  // `hold_order`: released only after every chunk pushed before it (the
  // byte stream's order); otherwise as soon as it is due. `own_segment`:
  // ready() never joins it with the bytes before or after it.
  void push(std::string bytes, SteadyTime due, bool hold_order, bool own_segment = false);
  // Moves what is due at `now` into ready(); returns when to call again:
  // the earliest due time after `now` of what is still held back, if
  // anything is (a chunk already due but held behind a later-due one is
  // released with it).
  std::optional<SteadyTime> release(SteadyTime now);
  // Due and not yet written: everything, or up to the next segment edge.
  std::string_view ready() const;
  void consume(std::size_t count);
  // Held back plus ready, not yet written: the backpressure measure.
  std::size_t queued_bytes() const { return held_bytes_ + ready_.size() - ready_offset_; }
  bool empty() const { return queued_bytes() == 0 && held_.empty(); }
  // Chunks not yet due: a filter that cuts the stream small (tcp.slicer)
  // is bounded by their number as well as by bytes.
  std::size_t held_chunks() const { return held_.size(); }
  void clear();

 private:
  struct Chunk {
    std::string bytes;
    SteadyTime due;
    bool hold_order = true;
    bool own_segment = false;
  };
  void append_ready(Chunk& chunk);  // moves the chunk's bytes out

  std::deque<Chunk> held_;
  std::size_t held_bytes_ = 0;
  std::size_t unordered_held_ = 0;  // held chunks without hold_order
  std::string ready_;
  std::size_t ready_offset_ = 0;
  // Offsets in ready_ where a segment starts or ends, ascending.
  std::deque<std::size_t> edges_;
};

}  // namespace chaos::agent::proxy
