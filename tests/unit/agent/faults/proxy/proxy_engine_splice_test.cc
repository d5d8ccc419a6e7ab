// The proxy engine's splice() path on real loopback sockets (no root): a
// direction whose filter passes it through is relayed in the kernel, a
// direction whose filter needs the bytes still gets every one of them, and
// both may meet in one connection; with splice() off (as in the agent) a
// passed-through direction is sent without the filter.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <memory>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/faults/proxy/proxy_engine.h"
#include "agent/faults/proxy/tcp_fault_filter.h"
#include "common/unique_fd.h"
#include "tests/unit/agent/faults/proxy/engine_quiet_check.h"
#include "tests/unit/agent/faults/proxy/loopback_test_server.h"

namespace chaos::agent::proxy {
namespace {

using namespace std::chrono_literals;

UniqueFd splice_test_connect(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address = proxy_test_loopback(port);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return fd;
}

// Until `size` bytes, EOF or an error (its errno in `error`).
std::string splice_test_read(int fd, std::size_t size, int* error = nullptr) {
  std::string bytes;
  std::vector<char> buffer(64 * 1024);
  while (bytes.size() < size) {
    const ssize_t count = ::recv(fd, buffer.data(), std::min(buffer.size(), size - bytes.size()), 0);
    if (count < 0 && error != nullptr) *error = errno;
    if (count <= 0) break;
    bytes.append(buffer.data(), static_cast<std::size_t>(count));
  }
  return bytes;
}

std::uint64_t splice_test_checksum(std::string_view bytes) {  // FNV-1a
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char byte : bytes) hash = (hash ^ static_cast<unsigned char>(byte)) * 0x100000001b3ULL;
  return hash;
}

std::string splice_test_letters(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, 'a');
  for (char& byte : bytes) byte = static_cast<char>('a' + random() % 26);
  return bytes;
}

std::string splice_test_upper(std::string_view bytes) {
  std::string out(bytes);
  for (char& byte : out) byte = static_cast<char>(std::toupper(static_cast<unsigned char>(byte)));
  return out;
}

// Upper-cases the directions it reads (the bytes change, so it must see
// them) and passes the others through. `read_first` > 0: upper-cases only
// that many bytes client to server, then passes that direction through
// too (a filter that gives up mid-stream, as nats.* does on TLS).
class SpliceTestFilter final : public StreamFilter {
 public:
  SpliceTestFilter(bool read_client, bool read_server, std::size_t read_first)
      : read_{read_client, read_server}, read_first_(read_first) {}
  FilterVerdict on_bytes(Direction from, std::string_view input, SteadyTime) override {
    const int index = from == Direction::kClientToServer ? 0 : 1;
    FilterVerdict verdict;
    std::string out(input);
    if (read_[index]) {
      std::size_t take = out.size();
      if (index == 0 && read_first_ > 0) {
        take = std::min(out.size(), read_first_ - seen_);
        seen_ += take;
        if (seen_ == read_first_) read_[0] = false;
      }
      out.replace(0, take, splice_test_upper(out.substr(0, take)));
    }
    verdict.forward.push_back(Emit{std::move(out)});
    return verdict;
  }
  FilterVerdict on_end(Direction, SteadyTime) override { return {}; }
  bool passes_through(Direction from) const noexcept override {
    return !read_[from == Direction::kClientToServer ? 0 : 1];
  }

 private:
  bool read_[2];
  std::size_t read_first_;
  std::size_t seen_ = 0;
};

// Passes both directions through and adds a trailer at the client's FIN:
// what on_end() emits must follow every byte still in the pipe.
class SpliceTestTrailerFilter final : public StreamFilter {
 public:
  FilterVerdict on_bytes(Direction, std::string_view input, SteadyTime) override {
    FilterVerdict verdict;
    verdict.forward.push_back(Emit{std::string(input)});
    return verdict;
  }
  FilterVerdict on_end(Direction from, SteadyTime) override {
    FilterVerdict verdict;
    if (from == Direction::kClientToServer) verdict.forward.push_back(Emit{"|trailer"});
    return verdict;
  }
  bool passes_through(Direction) const noexcept override { return true; }
};

class SpliceTestFactory final : public StreamFilterFactory {
 public:
  explicit SpliceTestFactory(std::function<std::unique_ptr<StreamFilter>()> make) : make_(std::move(make)) {}
  std::unique_ptr<StreamFilter> make(const ConnectionInfo&) override { return make_(); }

 private:
  std::function<std::unique_ptr<StreamFilter>()> make_;
};

std::unique_ptr<ProxyEngine> splice_test_engine(std::uint16_t upstream,
                                                std::function<std::unique_ptr<StreamFilter>()> make,
                                                std::size_t max_queued_bytes = 1 << 20, bool splice = true) {
  ProxyEngineOptions options;
  options.max_queued_bytes = max_queued_bytes;
  options.splice_pass_through = splice;
  options.factory = std::make_shared<SpliceTestFactory>(std::move(make));
  options.fixed_upstream = "127.0.0.1:" + std::to_string(upstream);
  auto engine = ProxyEngine::start(std::move(options));
  EXPECT_TRUE(engine.ok()) << engine.status().message();
  return engine.ok() ? std::move(*engine) : nullptr;
}

// Sends `sent` from a thread while reading the echo; the echo, in full.
std::string splice_test_round_trip(int fd, const std::string& sent) {
  std::thread writer([&] {
    EXPECT_EQ(::send(fd, sent.data(), sent.size(), MSG_NOSIGNAL), static_cast<ssize_t>(sent.size()));
  });
  std::string echoed = splice_test_read(fd, sent.size());
  writer.join();
  return echoed;
}

TEST(ProxyEngineSplice, PassThroughCarriesALargeTransferExactlyInTheKernel) {
  LoopbackTestServer echo(proxy_test_echo);
  auto engine = splice_test_engine(echo.port(), [] { return std::make_unique<PassThroughFilter>(); });
  ASSERT_TRUE(engine);
  UniqueFd client = splice_test_connect(engine->port());
  std::string sent = splice_test_letters(12 << 20, 7);
  sent[12345] = '\0';  // every byte value goes through, not only letters
  sent[sent.size() - 1] = '\xff';
  const std::string echoed = splice_test_round_trip(client.get(), sent);
  ASSERT_EQ(echoed.size(), sent.size());
  EXPECT_EQ(splice_test_checksum(echoed), splice_test_checksum(sent));
  EXPECT_EQ(engine->counters().spliced_directions.load(), 2u);
  EXPECT_EQ(engine->counters().bytes_client_to_server.load(), sent.size());
  // The client's FIN reaches the server, whose FIN comes back as EOF.
  ::shutdown(client.get(), SHUT_WR);
  EXPECT_EQ(splice_test_read(client.get(), 1), "");
}

// Counts its on_bytes() calls per direction and forwards the bytes as
// they are; passes client to server through, reads server to client.
class SpliceTestCountingFilter final : public StreamFilter {
 public:
  explicit SpliceTestCountingFilter(std::shared_ptr<std::atomic<int>[]> calls) : calls_(std::move(calls)) {}
  FilterVerdict on_bytes(Direction from, std::string_view input, SteadyTime) override {
    ++calls_[from == Direction::kClientToServer ? 0 : 1];
    FilterVerdict verdict;
    verdict.forward.push_back(Emit{std::string(input)});
    return verdict;
  }
  FilterVerdict on_end(Direction, SteadyTime) override { return {}; }
  bool passes_through(Direction from) const noexcept override { return from == Direction::kClientToServer; }

 private:
  std::shared_ptr<std::atomic<int>[]> calls_;
};

TEST(ProxyEngineSplice, CopyingPathSendsAPassedThroughDirectionWithoutTheFilter) {
  // splice() off, as in the agent: the passed-through direction goes from
  // the read buffer to the server, and what a small window refuses is
  // queued and sent in order; the other direction still meets the filter.
  LoopbackTestServer echo(proxy_test_echo, 16 * 1024);
  auto calls = std::shared_ptr<std::atomic<int>[]>(new std::atomic<int>[2]{0, 0});
  auto engine = splice_test_engine(
      echo.port(), [calls] { return std::make_unique<SpliceTestCountingFilter>(calls); }, 1 << 20, false);
  ASSERT_TRUE(engine);
  UniqueFd client = splice_test_connect(engine->port());
  const std::string sent = splice_test_letters(12 << 20, 11);
  const std::string echoed = splice_test_round_trip(client.get(), sent);
  ASSERT_EQ(echoed.size(), sent.size());
  EXPECT_EQ(splice_test_checksum(echoed), splice_test_checksum(sent));
  EXPECT_EQ(calls[0].load(), 0);
  EXPECT_GT(calls[1].load(), 0);
  EXPECT_EQ(engine->counters().spliced_directions.load(), 0u);
  EXPECT_EQ(engine->counters().bytes_client_to_server.load(), sent.size());
}

TEST(ProxyEngineSplice, HalfCloseAndEndOutputFollowThePipesBytes) {
  // The server reads slowly through a small window to EOF (so the pipe
  // still holds bytes when the client's FIN arrives), then answers with
  // what it counted: the answer travels after the client's FIN went
  // through the pipe.
  LoopbackTestServer counter(
      [](int fd) {
        UniqueFd owned(fd);
        std::string all;
        char buffer[32 * 1024];
        for (ssize_t count; (count = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
          all.append(buffer, static_cast<std::size_t>(count));
          std::this_thread::sleep_for(1ms);
        }
        const std::string answer =
            "got " + std::to_string(all.size()) + " " + std::to_string(splice_test_checksum(all));
        ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
      },
      16 * 1024);
  auto engine = splice_test_engine(counter.port(), [] { return std::make_unique<SpliceTestTrailerFilter>(); });
  ASSERT_TRUE(engine);
  UniqueFd client = splice_test_connect(engine->port());
  const std::string sent = splice_test_letters(10 << 20, 9);
  ASSERT_EQ(::send(client.get(), sent.data(), sent.size(), MSG_NOSIGNAL), static_cast<ssize_t>(sent.size()));
  ::shutdown(client.get(), SHUT_WR);
  const std::string arrived = sent + "|trailer";  // the pipe's bytes first, then on_end()'s
  const std::string expected =
      "got " + std::to_string(arrived.size()) + " " + std::to_string(splice_test_checksum(arrived));
  EXPECT_EQ(splice_test_read(client.get(), 1 << 10), expected);  // ends with the server's FIN
  EXPECT_EQ(engine->counters().spliced_directions.load(), 2u);
}

TEST(ProxyEngineSplice, AFilterThatReadsBytesStillGetsEveryOne) {
  LoopbackTestServer echo(proxy_test_echo);
  auto engine = splice_test_engine(echo.port(), [] { return std::make_unique<SpliceTestFilter>(true, true, 0); });
  ASSERT_TRUE(engine);
  UniqueFd client = splice_test_connect(engine->port());
  const std::string sent = splice_test_letters(4 << 20, 11);
  EXPECT_EQ(splice_test_round_trip(client.get(), sent), splice_test_upper(sent));
  EXPECT_EQ(engine->counters().spliced_directions.load(), 0u);
}

TEST(ProxyEngineSplice, OneDirectionSplicedTheOtherFiltered) {
  LoopbackTestServer echo(proxy_test_echo);
  auto engine = splice_test_engine(echo.port(), [] { return std::make_unique<SpliceTestFilter>(true, false, 0); });
  ASSERT_TRUE(engine);
  UniqueFd client = splice_test_connect(engine->port());
  const std::string sent = splice_test_letters(4 << 20, 13);
  const std::string echoed = splice_test_round_trip(client.get(), sent);
  ASSERT_EQ(echoed.size(), sent.size());
  EXPECT_EQ(splice_test_checksum(echoed), splice_test_checksum(splice_test_upper(sent)));
  EXPECT_EQ(engine->counters().spliced_directions.load(), 1u);
  ::shutdown(client.get(), SHUT_WR);
  EXPECT_EQ(splice_test_read(client.get(), 1), "");
}

TEST(ProxyEngineSplice, AFilterThatStopsReadingMidStreamKeepsTheOrder) {
  LoopbackTestServer echo(proxy_test_echo);
  static constexpr std::size_t kRead = 100000;
  auto engine = splice_test_engine(echo.port(), [] { return std::make_unique<SpliceTestFilter>(true, false, kRead); });
  ASSERT_TRUE(engine);
  UniqueFd client = splice_test_connect(engine->port());
  // In pieces, so the switch happens between reads and not only at the end.
  const std::string sent = splice_test_letters(2 << 20, 17);
  std::thread writer([&] {
    for (std::size_t offset = 0; offset < sent.size(); offset += 30000) {
      const std::string_view piece = std::string_view(sent).substr(offset, 30000);
      ASSERT_EQ(::send(client.get(), piece.data(), piece.size(), MSG_NOSIGNAL), static_cast<ssize_t>(piece.size()));
    }
  });
  const std::string echoed = splice_test_read(client.get(), sent.size());
  writer.join();
  ASSERT_EQ(echoed.size(), sent.size());
  EXPECT_EQ(echoed.substr(0, kRead), splice_test_upper(sent.substr(0, kRead)));
  EXPECT_EQ(splice_test_checksum(echoed.substr(kRead)), splice_test_checksum(sent.substr(kRead)));
  EXPECT_EQ(engine->counters().spliced_directions.load(), 2u);
}

TEST(ProxyEngineSplice, AServerResetReachesTheClientAsAReset) {
  // Reads the first bytes, then closes with RST (SO_LINGER 0).
  LoopbackTestServer resetter([](int fd) {
    UniqueFd owned(fd);
    splice_test_read(fd, 5);
    const linger abortive{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  });
  auto engine = splice_test_engine(resetter.port(), [] { return std::make_unique<PassThroughFilter>(); });
  ASSERT_TRUE(engine);
  UniqueFd client = splice_test_connect(engine->port());
  ASSERT_EQ(::send(client.get(), "hello", 5, MSG_NOSIGNAL), 5);
  int error = 0;
  EXPECT_EQ(splice_test_read(client.get(), 1, &error), "");
  EXPECT_EQ(error, ECONNRESET);
  EXPECT_EQ(engine->counters().spliced_directions.load(), 2u);
}

// Reads to EOF, then answers with how many bytes it got and their checksum.
void splice_test_count_to_end(int fd) {
  UniqueFd owned(fd);
  const std::string all = splice_test_read(fd, std::string::npos);
  const std::string answer = "got " + std::to_string(all.size()) + " " + std::to_string(splice_test_checksum(all));
  ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
}

std::string splice_test_count_answer(const std::string& bytes) {
  return "got " + std::to_string(bytes.size()) + " " + std::to_string(splice_test_checksum(bytes));
}

TEST(ProxyEngineSplice, AnUrgentByteNeitherStallsNorDropsTheBytesAfterIt) {
  // splice() stops at TCP's urgent mark; the direction must go on by
  // copying (recv() steps over the urgent byte, as it always did).
  LoopbackTestServer counter(splice_test_count_to_end);
  auto engine = splice_test_engine(counter.port(), [] { return std::make_unique<PassThroughFilter>(); });
  ASSERT_TRUE(engine);
  const std::string before = splice_test_letters(64 << 10, 21);
  const std::string after = splice_test_letters(64 << 10, 22);
  // Connection 1: the bytes after the mark arrive while the client waits
  // (no FIN yet), and the engine does not spin meanwhile.
  UniqueFd waiting = splice_test_connect(engine->port());
  ASSERT_EQ(::send(waiting.get(), before.data(), before.size(), MSG_NOSIGNAL), static_cast<ssize_t>(before.size()));
  ASSERT_EQ(::send(waiting.get(), "!", 1, MSG_OOB | MSG_NOSIGNAL), 1);
  ASSERT_EQ(::send(waiting.get(), after.data(), after.size(), MSG_NOSIGNAL), static_cast<ssize_t>(after.size()));
  EXPECT_LE(fewest_event_wakeups_per_100ms(*engine), 2u) << "the engine busy-loops on the urgent mark";
  ::shutdown(waiting.get(), SHUT_WR);
  EXPECT_EQ(splice_test_read(waiting.get(), 1 << 10), splice_test_count_answer(before + after));
  // Connection 2: the FIN right behind the bytes after the mark.
  UniqueFd ending = splice_test_connect(engine->port());
  ASSERT_EQ(::send(ending.get(), before.data(), before.size(), MSG_NOSIGNAL), static_cast<ssize_t>(before.size()));
  ASSERT_EQ(::send(ending.get(), "!", 1, MSG_OOB | MSG_NOSIGNAL), 1);
  ASSERT_EQ(::send(ending.get(), after.data(), after.size(), MSG_NOSIGNAL), static_cast<ssize_t>(after.size()));
  ::shutdown(ending.get(), SHUT_WR);
  EXPECT_EQ(splice_test_read(ending.get(), 1 << 10), splice_test_count_answer(before + after));
}

// The server has sent its whole answer and FIN, the client's FIN went
// through, and the answer waits in the engine for a client that reads
// slowly: the server side is done both ways, and the engine must not wake
// for it (EPOLLHUP) until the client has read. On the copying path, whose
// bound (64 MiB here) can hold more than the kernel's socket buffers; a
// pipe (256 KiB) empties into them first, but its direction is rearmed by
// the same code.
TEST(ProxyEngineSplice, ASideDoneBothWaysIsNotPolledWhileItsAnswerWaits) {
  const std::string answer = splice_test_letters(8 << 20, 23);
  std::atomic<bool> answered{false};
  LoopbackTestServer server([&](int fd) {
    UniqueFd owned(fd);
    splice_test_read(fd, std::string::npos);
    ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
    owned.reset();
    answered = true;
  });
  auto engine = splice_test_engine(
      server.port(), [] { return std::make_unique<SpliceTestFilter>(true, true, 0); }, 64 << 20);
  ASSERT_TRUE(engine);
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int small = 4096;
  ::setsockopt(client.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  const timeval timeout{10, 0};
  ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address = proxy_test_loopback(engine->port());
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::shutdown(client.get(), SHUT_WR);
  for (int wait = 0; wait < 1000 && !answered; ++wait) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(answered);
  std::this_thread::sleep_for(50ms);  // the engine reads the server's FIN
  EXPECT_LE(fewest_event_wakeups_per_100ms(*engine), 2u) << "the engine busy-loops on EPOLLHUP";
  const std::string arrived = splice_test_read(client.get(), answer.size() + 1);  // to EOF
  EXPECT_EQ(arrived, splice_test_upper(answer));
}

}  // namespace
}  // namespace chaos::agent::proxy
