#include "bench/proxy/stream_meter.h"

#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace chaos::bench {

namespace {

double stream_process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& time) { return static_cast<double>(time.tv_sec) + time.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

sockaddr_in stream_address(const std::string& ip, std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  return address;
}

StreamReceiver::StreamReceiver(sockaddr_in address)
    : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  const int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_.get(), 4) != 0) {
    return;
  }
  socklen_t length = sizeof address;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    std::vector<char> buffer(256 * 1024);
    for (;;) {
      const ssize_t count = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
      if (count <= 0) return;
      bytes_ += static_cast<std::uint64_t>(count);
    }
  });
}

StreamReceiver::~StreamReceiver() {
  // A stream that never connected: accept() returns.
  ::shutdown(listener_.get(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

StreamFigures measure_stream(const sockaddr_in& to, const StreamReceiver& receiver, double seconds,
                             const std::atomic<bool>* stop) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) return {};
  const std::vector<char> chunk(64 * 1024, 'x');
  const double cpu_before = stream_process_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  const std::uint64_t before = receiver.bytes();
  while (std::chrono::steady_clock::now() < end && !(stop != nullptr && stop->load())) {
    if (::send(fd.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;
  }
  const std::uint64_t counted = receiver.bytes() - before;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = stream_process_cpu_seconds() - cpu_before;
  ::shutdown(fd.get(), SHUT_WR);
  if (counted == 0) return {};
  StreamFigures figures;
  figures.gib = static_cast<double>(counted) / (1024.0 * 1024 * 1024);
  figures.bytes_per_second = static_cast<double>(counted) / elapsed;
  figures.cpu_seconds_per_gib = cpu / figures.gib;
  return figures;
}

std::set<std::string> stream_thread_ids() {
  std::set<std::string> ids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    ids.insert(entry.path().filename().string());
  }
  return ids;
}

double stream_thread_cpu_seconds(const std::string& id) {
  std::ifstream in("/proc/self/task/" + id + "/stat");
  std::string line;
  if (!std::getline(in, line) || line.rfind(')') == std::string::npos) return 0;
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::vector<std::string> values{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
  if (values.size() < 13) return 0;
  // Fields 14 and 15 of proc(5); values[0] is field 3.
  return (std::stod(values[11]) + std::stod(values[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void keep_best(RoundFigures& best, const StreamFigures& path, const StreamFigures& direct) {
  if (path.bytes_per_second > best.path.bytes_per_second) best = {path, direct};
}

}  // namespace chaos::bench
