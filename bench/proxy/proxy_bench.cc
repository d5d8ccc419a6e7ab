// One TCP stream on 127.0.0.1 for --seconds: a sender writes 64 KiB
// chunks, a receiver counts them, in each round three times: direct;
// through the proxy engine with the pass-through filter (relayed with
// splice(), the path of every connection or direction a fault leaves
// alone); and through the engine with a filter that is handed every byte
// and changes none (the copying path of a fault that reads the stream).
// The engine's fixed upstream stands in for the nft redirect, so no root
// is needed. Prints one JSON object with the rates and each path's ratio
// to direct (goal: proxied >= 50% of direct).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "agent/faults/proxy/proxy_engine.h"
#include "agent/faults/proxy/tcp_fault_filter.h"
#include "common/unique_fd.h"

namespace {

using namespace chaos;
using namespace chaos::agent::proxy;

sockaddr_in proxy_bench_loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

class PassThroughFactory final : public StreamFilterFactory {
 public:
  std::unique_ptr<StreamFilter> make(const ConnectionInfo&) override { return std::make_unique<PassThroughFilter>(); }
};

// Sees every byte and forwards it unchanged: it does not say it passes
// bytes through, so the engine copies them through user space.
class CopyingFilter final : public StreamFilter {
 public:
  FilterVerdict on_bytes(Direction, std::string_view input, SteadyTime) override {
    FilterVerdict verdict;
    verdict.forward.push_back(Emit{std::string(input)});
    return verdict;
  }
  FilterVerdict on_end(Direction, SteadyTime) override { return {}; }
};

class CopyingFactory final : public StreamFilterFactory {
 public:
  std::unique_ptr<StreamFilter> make(const ConnectionInfo&) override { return std::make_unique<CopyingFilter>(); }
};

// A receiver on an ephemeral port that counts bytes until EOF.
struct Receiver {
  UniqueFd listener{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  std::uint16_t port = 0;
  std::atomic<std::uint64_t> bytes{0};
  std::thread thread;

  Receiver() {
    sockaddr_in address = proxy_bench_loopback(0);
    ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listener.get(), 4);
    socklen_t length = sizeof address;
    ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    thread = std::thread([this] {
      UniqueFd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      std::vector<char> buffer(256 * 1024);
      for (;;) {
        const ssize_t count = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
        if (count <= 0) return;
        bytes += static_cast<std::uint64_t>(count);
      }
    });
  }
  ~Receiver() { thread.join(); }
};

// Bytes per second the receiver counted while the sender ran for `seconds`.
double stream_rate(std::uint16_t connect_port, Receiver& receiver, double seconds) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = proxy_bench_loopback(connect_port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 0;
  const std::vector<char> chunk(64 * 1024, 'x');
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  const std::uint64_t before = receiver.bytes.load();
  while (std::chrono::steady_clock::now() < end) {
    if (::send(fd.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;
  }
  const std::uint64_t counted = receiver.bytes.load() - before;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::shutdown(fd.get(), SHUT_WR);
  return static_cast<double>(counted) / elapsed;
}

// One stream through a fresh engine with `factory`; 0 when it cannot start.
double proxied_rate(std::shared_ptr<StreamFilterFactory> factory, double seconds) {
  Receiver receiver;
  ProxyEngineOptions options;
  options.factory = std::move(factory);
  options.fixed_upstream = "127.0.0.1:" + std::to_string(receiver.port);
  auto engine = ProxyEngine::start(std::move(options));
  if (!engine.ok()) {
    std::cerr << engine.status().message() << "\n";
    ::shutdown(receiver.listener.get(), SHUT_RDWR);  // the receiver's accept() returns
    return 0;
  }
  const double rate = stream_rate((*engine)->port(), receiver, seconds);
  (*engine)->stop();
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"proxy_bench: one TCP stream through the tcp.* proxy (spliced and copied) vs direct"};
  double seconds = 3;
  int rounds = 3;
  app.add_option("--seconds", seconds, "length of each stream")->check(CLI::Range(0.2, 60.0));
  app.add_option("--rounds", rounds, "streams per path (the best is kept)")->check(CLI::Range(1, 20));
  CLI11_PARSE(app, argc, argv);

  double direct = 0;
  double spliced = 0;
  double copied = 0;
  for (int round = 0; round < rounds; ++round) {
    {
      Receiver receiver;
      direct = std::max(direct, stream_rate(receiver.port, receiver, seconds));
    }
    spliced = std::max(spliced, proxied_rate(std::make_shared<PassThroughFactory>(), seconds));
    copied = std::max(copied, proxied_rate(std::make_shared<CopyingFactory>(), seconds));
  }
  if (spliced == 0 || copied == 0) return 1;
  const auto mbit = [](double rate) { return rate * 8 / 1e6; };
  nlohmann::json out = {{"benchmark", "proxy"},
                        {"seconds", seconds},
                        {"rounds", rounds},
                        {"direct_mbit_per_s", mbit(direct)},
                        {"spliced_mbit_per_s", mbit(spliced)},
                        {"copied_mbit_per_s", mbit(copied)},
                        {"spliced_ratio", direct > 0 ? spliced / direct : 0.0},
                        {"copied_ratio", direct > 0 ? copied / direct : 0.0}};
  std::cout << out.dump() << "\n";
  return 0;
}
