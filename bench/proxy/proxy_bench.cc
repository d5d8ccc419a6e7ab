// One TCP stream on 127.0.0.1 for --seconds: a sender writes 64 KiB
// chunks, a receiver counts them, in each round four times: direct;
// through the proxy engine with the pass-through filter as the agent runs
// it (recv()/send(), the path of every connection or direction a fault
// leaves alone); the same with the engine's splice() option on; and
// through the engine with a filter that is handed every byte and changes
// none (the copying path of a fault that reads the stream).
// The engine's fixed upstream stands in for the nft redirect, so no root
// is needed. Prints one JSON object with the rates and each path's ratio
// to direct (goal: proxied >= 50% of direct).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
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

// What one stream achieved.
struct StreamFigures {
  double bytes_per_second = 0;
  // CPU of the whole process (sender, receiver and, when proxied, the
  // engine's thread) per GiB delivered: what the proxy adds on top of the
  // direct stream does not depend on how busy the machine is.
  double cpu_seconds_per_gib = 0;
  // Of that, the proxy engine's event thread alone (0 when direct).
  double engine_cpu_seconds_per_gib = 0;
  double gib = 0;  // delivered
};

double proxy_bench_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& time) { return static_cast<double>(time.tv_sec) + time.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// What the receiver counted while the sender ran for `seconds`.
StreamFigures stream_rate(std::uint16_t connect_port, Receiver& receiver, double seconds) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = proxy_bench_loopback(connect_port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return {};
  const std::vector<char> chunk(64 * 1024, 'x');
  const double cpu_before = proxy_bench_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  const std::uint64_t before = receiver.bytes.load();
  while (std::chrono::steady_clock::now() < end) {
    if (::send(fd.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;
  }
  const std::uint64_t counted = receiver.bytes.load() - before;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = proxy_bench_cpu_seconds() - cpu_before;
  ::shutdown(fd.get(), SHUT_WR);
  if (counted == 0) return {};
  StreamFigures figures;
  figures.gib = static_cast<double>(counted) / (1024.0 * 1024 * 1024);
  figures.bytes_per_second = static_cast<double>(counted) / elapsed;
  figures.cpu_seconds_per_gib = cpu / figures.gib;
  return figures;
}

std::set<std::string> proxy_bench_thread_ids() {
  std::set<std::string> ids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    ids.insert(entry.path().filename().string());
  }
  return ids;
}

// CPU seconds (user + system) of one thread of this process, 0 if gone.
double proxy_bench_thread_cpu_seconds(const std::string& id) {
  std::ifstream in("/proc/self/task/" + id + "/stat");
  std::string line;
  if (!std::getline(in, line) || line.rfind(')') == std::string::npos) return 0;
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::vector<std::string> values{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
  if (values.size() < 13) return 0;
  // Fields 14 and 15 of proc(5); values[0] is field 3.
  return (std::stod(values[11]) + std::stod(values[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// One stream through a fresh engine with `factory`; zeros when it cannot start.
StreamFigures proxied_rate(std::shared_ptr<StreamFilterFactory> factory, double seconds, bool splice) {
  Receiver receiver;
  ProxyEngineOptions options;
  options.factory = std::move(factory);
  options.splice_pass_through = splice;
  options.fixed_upstream = "127.0.0.1:" + std::to_string(receiver.port);
  const std::set<std::string> before = proxy_bench_thread_ids();
  auto engine = ProxyEngine::start(std::move(options));
  if (!engine.ok()) {
    std::cerr << engine.status().message() << "\n";
    ::shutdown(receiver.listener.get(), SHUT_RDWR);  // the receiver's accept() returns
    return {};
  }
  // The one thread the engine started: its event thread.
  std::string engine_thread;
  for (const std::string& id : proxy_bench_thread_ids()) {
    if (before.count(id) == 0) engine_thread = id;
  }
  const double engine_cpu_before = proxy_bench_thread_cpu_seconds(engine_thread);
  StreamFigures figures = stream_rate((*engine)->port(), receiver, seconds);
  const double engine_cpu = proxy_bench_thread_cpu_seconds(engine_thread) - engine_cpu_before;
  if (figures.gib > 0) figures.engine_cpu_seconds_per_gib = engine_cpu / figures.gib;
  (*engine)->stop();
  return figures;
}

// The best of the rounds: the highest rate, the lowest CPU per GiB.
void proxy_bench_keep_best(StreamFigures& best, const StreamFigures& round) {
  best.bytes_per_second = std::max(best.bytes_per_second, round.bytes_per_second);
  const auto keep_lowest = [](double& kept, double value) {
    if (value > 0 && (kept == 0 || value < kept)) kept = value;
  };
  keep_lowest(best.cpu_seconds_per_gib, round.cpu_seconds_per_gib);
  keep_lowest(best.engine_cpu_seconds_per_gib, round.engine_cpu_seconds_per_gib);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"proxy_bench: one TCP stream through the tcp.* proxy (pass-through, spliced, filtered) vs direct"};
  double seconds = 3;
  int rounds = 3;
  app.add_option("--seconds", seconds, "length of each stream")->check(CLI::Range(0.2, 60.0));
  app.add_option("--rounds", rounds, "streams per path (the best is kept)")->check(CLI::Range(1, 20));
  CLI11_PARSE(app, argc, argv);

  StreamFigures direct;
  StreamFigures passed;
  StreamFigures spliced;
  StreamFigures copied;
  for (int round = 0; round < rounds; ++round) {
    {
      Receiver receiver;
      proxy_bench_keep_best(direct, stream_rate(receiver.port, receiver, seconds));
    }
    proxy_bench_keep_best(passed, proxied_rate(std::make_shared<PassThroughFactory>(), seconds, false));
    proxy_bench_keep_best(spliced, proxied_rate(std::make_shared<PassThroughFactory>(), seconds, true));
    proxy_bench_keep_best(copied, proxied_rate(std::make_shared<CopyingFactory>(), seconds, false));
  }
  if (passed.bytes_per_second == 0 || spliced.bytes_per_second == 0 || copied.bytes_per_second == 0) return 1;
  const auto mbit = [](const StreamFigures& figures) { return figures.bytes_per_second * 8 / 1e6; };
  const auto ratio = [&](const StreamFigures& figures) {
    return direct.bytes_per_second > 0 ? figures.bytes_per_second / direct.bytes_per_second : 0.0;
  };
  nlohmann::json out = {{"benchmark", "proxy"},
                        {"seconds", seconds},
                        {"rounds", rounds},
                        {"direct_mbit_per_s", mbit(direct)},
                        {"pass_through_mbit_per_s", mbit(passed)},
                        {"spliced_mbit_per_s", mbit(spliced)},
                        {"copied_mbit_per_s", mbit(copied)},
                        {"pass_through_ratio", ratio(passed)},
                        {"spliced_ratio", ratio(spliced)},
                        {"copied_ratio", ratio(copied)},
                        {"direct_cpu_s_per_gib", direct.cpu_seconds_per_gib},
                        {"pass_through_cpu_s_per_gib", passed.cpu_seconds_per_gib},
                        {"spliced_cpu_s_per_gib", spliced.cpu_seconds_per_gib},
                        {"copied_cpu_s_per_gib", copied.cpu_seconds_per_gib},
                        {"pass_through_engine_cpu_s_per_gib", passed.engine_cpu_seconds_per_gib},
                        {"spliced_engine_cpu_s_per_gib", spliced.engine_cpu_seconds_per_gib},
                        {"copied_engine_cpu_s_per_gib", copied.engine_cpu_seconds_per_gib}};
  std::cout << out.dump() << "\n";
  return 0;
}
