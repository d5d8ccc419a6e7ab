// A two-namespace world for the dns.fail integration tests, all named with
// the "cdn" prefix:
//
//   cdn-client (10.202.53.1/30, veth cdn-c0)  <->  cdn-server (10.202.53.2/30, veth cdn-s0)
//                                                    dnsmasq: the "real" resolver
//
// /etc/netns/cdn-client/resolv.conf points at the dnsmasq, so
// `ip netns exec cdn-client dig|getent ...` resolves through it. Neither
// namespace has a route anywhere else: no query can leave the machine.
// Everything is torn down in the destructor, and leftovers of a crashed
// earlier run are removed before setting up.
//
// The fault itself runs in this test process, on a NamespaceThread that has
// setns()'d into cdn-client: sockets are bound to the namespace of the
// thread that creates them, and threads and forked tools (nft) inherit the
// creating thread's namespace, so the responder and its nft calls live in
// cdn-client exactly as they would in an agent started there.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "common/command_runner.h"

namespace chaos::agent::dns::testing {

inline constexpr const char* kClientNamespace = "cdn-client";
inline constexpr const char* kServerNamespace = "cdn-server";
inline constexpr const char* kResolverAddress = "10.202.53.2";
// dnsmasq's records: a name the tests fault and one they leave alone.
inline constexpr const char* kLabName = "nats-1.lab";
inline constexpr const char* kLabAddress = "10.202.99.11";
inline constexpr const char* kOtherName = "good.example";
inline constexpr const char* kOtherAddress = "10.202.99.7";

class DnsLab {
 public:
  DnsLab();
  ~DnsLab();
  DnsLab(const DnsLab&) = delete;
  DnsLab& operator=(const DnsLab&) = delete;

  bool ready() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string client_resolv_conf() const;

  // Starts a caching dnsmasq on 127.0.0.1:53 inside cdn-client that
  // forwards to the server's, and points the client's resolv.conf at it:
  // the systemd-resolved / local-cache setup.
  bool use_local_caching_resolver();

  // Runs argv inside cdn-client (with its resolv.conf bind-mounted).
  CommandResult in_client(const std::vector<std::string>& argv);

 private:
  void set_up();
  void tear_down();
  void must(const std::vector<std::string>& argv);

  ProcessCommandRunner commands_;
  std::string temp_dir_;
  std::string error_;
};

// A thread living in another network namespace; run() executes a closure
// there and waits for it.
class NamespaceThread {
 public:
  explicit NamespaceThread(const std::string& netns);
  ~NamespaceThread();
  bool ready() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void run(std::function<void()> work);

 private:
  void loop(const std::string& netns, std::promise<std::string> started);

  std::mutex mutex_;
  std::condition_variable wakeup_;
  std::deque<std::packaged_task<void()>> queue_;
  bool done_ = false;
  std::string error_;
  std::thread thread_;
};

}  // namespace chaos::agent::dns::testing
