// One direction of a proxied connection relayed inside the kernel: bytes
// move from the source socket into a pipe and from the pipe into the target
// socket with splice(), never through a user-space buffer. The proxy engine
// uses it for a direction whose filter passes bytes through untouched
// (StreamFilter::passes_through); the pipe's capacity is that direction's
// memory bound, as DirectionQueue's byte limit is for the filtered path.
#pragma once

#include <cstddef>
#include <optional>

#include "common/unique_fd.h"

namespace chaos::agent::proxy {

enum class SpliceOutcome {
  kMoved,       // `bytes` moved (more may follow)
  kWouldBlock,  // the source has nothing now, the target is full, or the pipe is
  kEnd,         // fill(): the source sent FIN
  kError,       // errno says why (a reset peer: ECONNRESET, EPIPE)
};

struct SpliceStep {
  SpliceOutcome outcome = SpliceOutcome::kWouldBlock;
  std::size_t bytes = 0;
};

class SplicePipe {
 public:
  // A non-blocking pipe of at most `capacity` bytes; nullopt, so the caller
  // falls back to copying, when no pipe can be had (the descriptor limit,
  // or its last quarter: the descriptors go to sockets first) or none
  // within `capacity` (the kernel rounds the size up to whole pages, and
  // keeps its default of 64 KiB when asked for more than fs.pipe-max-size
  // or the user's pipe budget allows).
  static std::optional<SplicePipe> open(std::size_t capacity);

  // Source socket to pipe, at most the pipe's free space.
  SpliceStep fill(int source_fd);
  // Pipe to target socket, everything held if the target takes it.
  SpliceStep drain(int target_fd);

  std::size_t held() const { return held_; }
  bool empty() const { return held_ == 0; }
  // No room for more: held == capacity, or the last fill() found the pipe's
  // slots used up before its bytes were (a splice from a socket fills
  // whole slots with partial pages). Cleared when drain() moves bytes.
  bool full() const { return held_ >= capacity_ || slots_full_; }
  std::size_t capacity() const { return capacity_; }

 private:
  SplicePipe(UniqueFd read_end, UniqueFd write_end, std::size_t capacity)
      : read_end_(std::move(read_end)), write_end_(std::move(write_end)), capacity_(capacity) {}

  UniqueFd read_end_;
  UniqueFd write_end_;
  std::size_t capacity_ = 0;
  std::size_t held_ = 0;
  bool slots_full_ = false;
};

}  // namespace chaos::agent::proxy
