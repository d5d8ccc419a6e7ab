// SplicePipe on socketpairs: bytes moved exactly, a full pipe and an empty
// source report "would block", EOF and a gone target are told apart.
#include "agent/faults/proxy/splice_pipe.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace chaos::agent::proxy {
namespace {

struct SplicePipeTestPair {
  UniqueFd near_end;
  UniqueFd far_end;
};

SplicePipeTestPair splice_pipe_test_pair() {
  int ends[2] = {-1, -1};
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends), 0);
  return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

std::string splice_pipe_test_drain(int fd) {
  std::string bytes;
  char buffer[4096];
  for (;;) {
    const ssize_t count = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (count <= 0) return bytes;
    bytes.append(buffer, static_cast<std::size_t>(count));
  }
}

TEST(SplicePipe, MovesBytesFromSourceToTargetExactly) {
  auto pipe = SplicePipe::open(64 * 1024);
  ASSERT_TRUE(pipe);
  auto source = splice_pipe_test_pair();
  auto target = splice_pipe_test_pair();
  const std::string sent = "every byte \0 and \xff too";
  ASSERT_EQ(::send(source.far_end.get(), sent.data(), sent.size(), 0), static_cast<ssize_t>(sent.size()));
  const SpliceStep filled = pipe->fill(source.near_end.get());
  EXPECT_EQ(filled.outcome, SpliceOutcome::kMoved);
  EXPECT_EQ(filled.bytes, sent.size());
  EXPECT_EQ(pipe->held(), sent.size());
  const SpliceStep drained = pipe->drain(target.near_end.get());
  EXPECT_EQ(drained.outcome, SpliceOutcome::kMoved);
  EXPECT_TRUE(pipe->empty());
  EXPECT_EQ(splice_pipe_test_drain(target.far_end.get()), sent);
}

TEST(SplicePipe, AnEmptySourceWouldBlockAndFinIsTheEnd) {
  auto pipe = SplicePipe::open(64 * 1024);
  ASSERT_TRUE(pipe);
  auto source = splice_pipe_test_pair();
  EXPECT_EQ(pipe->fill(source.near_end.get()).outcome, SpliceOutcome::kWouldBlock);
  EXPECT_FALSE(pipe->full());  // nothing held: the source was empty, not the pipe full
  ::shutdown(source.far_end.get(), SHUT_WR);
  EXPECT_EQ(pipe->fill(source.near_end.get()).outcome, SpliceOutcome::kEnd);
}

TEST(SplicePipe, StopsAtItsCapacityUntilDrained) {
  auto pipe = SplicePipe::open(4096);
  ASSERT_TRUE(pipe);
  ASSERT_GE(pipe->capacity(), 4096u);
  auto source = splice_pipe_test_pair();
  auto target = splice_pipe_test_pair();
  const std::string sent(pipe->capacity() * 3, 'z');
  ASSERT_EQ(::send(source.far_end.get(), sent.data(), sent.size(), 0), static_cast<ssize_t>(sent.size()));
  std::string received;
  for (int round = 0; round < 1000 && received.size() < sent.size(); ++round) {
    while (pipe->fill(source.near_end.get()).outcome == SpliceOutcome::kMoved) {
    }
    EXPECT_LE(pipe->held(), pipe->capacity());
    EXPECT_TRUE(pipe->full());  // the source still had bytes, or the pipe was full
    while (pipe->drain(target.near_end.get()).outcome == SpliceOutcome::kMoved) {
    }
    EXPECT_FALSE(pipe->full());
    received += splice_pipe_test_drain(target.far_end.get());
  }
  EXPECT_EQ(received, sent);
}

TEST(SplicePipe, AGoneTargetIsAnError) {
  // splice() into a socket without a reader raises SIGPIPE (no
  // MSG_NOSIGNAL): blocked here as the proxy's event thread blocks it.
  sigset_t pipe_signal;
  sigset_t before;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &before);
  auto pipe = SplicePipe::open(64 * 1024);
  ASSERT_TRUE(pipe);
  auto source = splice_pipe_test_pair();
  auto target = splice_pipe_test_pair();
  ASSERT_EQ(::send(source.far_end.get(), "abc", 3, 0), 3);
  ASSERT_EQ(pipe->fill(source.near_end.get()).outcome, SpliceOutcome::kMoved);
  target.far_end.reset();
  EXPECT_EQ(pipe->drain(target.near_end.get()).outcome, SpliceOutcome::kError);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_EQ(pipe->held(), 3u);
  // Consume the pending SIGPIPE so it does not outlive the test.
  const timespec no_wait{0, 0};
  while (sigtimedwait(&pipe_signal, nullptr, &no_wait) == SIGPIPE) {
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

TEST(SplicePipe, NoPipeLargerThanItsCapacity) {
  // The kernel rounds a pipe up to a page: a smaller bound would not hold.
  EXPECT_FALSE(SplicePipe::open(1000));
  EXPECT_TRUE(SplicePipe::open(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))));
}

TEST(SplicePipe, NoPipeInTheLastQuarterOfTheDescriptorLimit) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  UniqueFd probe(::dup(0));
  ASSERT_TRUE(probe.valid());
  // Room for the pipe's two descriptors (the probe's number and the next),
  // but they would be the last two.
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(probe.get()) + 2;
  probe.reset();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  const bool opened = SplicePipe::open(64 * 1024).has_value();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_FALSE(opened);
  EXPECT_TRUE(SplicePipe::open(64 * 1024).has_value());
}

}  // namespace
}  // namespace chaos::agent::proxy
