#include "agent/faults/proxy/splice_pipe.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

namespace chaos::agent::proxy {

namespace {

// SPLICE_F_MOVE is a hint (pages are moved where the kernel can);
// SPLICE_F_NONBLOCK makes the pipe side non-blocking, the sockets are
// non-blocking already.
constexpr unsigned kSplicePipeFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

SpliceStep splice_pipe_step(ssize_t moved) {
  if (moved > 0) return {SpliceOutcome::kMoved, static_cast<std::size_t>(moved)};
  if (moved == 0) return {SpliceOutcome::kEnd, 0};
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {SpliceOutcome::kWouldBlock, 0};
  return {SpliceOutcome::kError, 0};
}

// Whether descriptor `fd` lies in the last quarter of the soft
// RLIMIT_NOFILE. New descriptors take the lowest free number, so a high one
// means the process is close to its limit: sockets need the rest more than
// a copy saved.
bool splice_pipe_short_of_descriptors(int fd) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return false;
  return static_cast<rlim_t>(fd) >= limit.rlim_cur - limit.rlim_cur / 4;
}

}  // namespace

std::optional<SplicePipe> SplicePipe::open(std::size_t capacity) {
  int ends[2];
  if (::pipe2(ends, O_NONBLOCK | O_CLOEXEC) != 0) return std::nullopt;
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  if (splice_pipe_short_of_descriptors(std::max(ends[0], ends[1]))) return std::nullopt;
  // Over fs.pipe-max-size (or the user's pipe page budget) this fails and
  // the pipe keeps its default size, which F_GETPIPE_SZ then reports.
  (void)::fcntl(write_end.get(), F_SETPIPE_SZ, static_cast<int>(capacity));
  const int size = ::fcntl(write_end.get(), F_GETPIPE_SZ);
  // Rounded up to a page, or the default kept: over the bound, the
  // direction copies instead, where the bound holds to the byte.
  if (size <= 0 || static_cast<std::size_t>(size) > capacity) return std::nullopt;
  return SplicePipe(std::move(read_end), std::move(write_end), static_cast<std::size_t>(size));
}

SpliceStep SplicePipe::fill(int source_fd) {
  if (full()) return {SpliceOutcome::kWouldBlock, 0};
  const SpliceStep step =
      splice_pipe_step(::splice(source_fd, nullptr, write_end_.get(), nullptr, capacity_ - held_, kSplicePipeFlags));
  if (step.outcome == SpliceOutcome::kMoved) held_ += step.bytes;
  // EAGAIN with bytes held: the socket may be empty, or the pipe's slots
  // may be used up. Not reading until a drain is cheap (the held bytes are
  // being written anyway) and never spins on a readable socket.
  if (step.outcome == SpliceOutcome::kWouldBlock && held_ > 0) slots_full_ = true;
  return step;
}

SpliceStep SplicePipe::drain(int target_fd) {
  if (held_ == 0) return {SpliceOutcome::kWouldBlock, 0};
  SpliceStep step = splice_pipe_step(::splice(read_end_.get(), nullptr, target_fd, nullptr, held_, kSplicePipeFlags));
  // A pipe that holds bytes never reads as ended; 0 is taken as "try later".
  if (step.outcome == SpliceOutcome::kEnd) step.outcome = SpliceOutcome::kWouldBlock;
  if (step.outcome == SpliceOutcome::kMoved) {
    held_ -= step.bytes;
    slots_full_ = false;
  }
  return step;
}

}  // namespace chaos::agent::proxy
