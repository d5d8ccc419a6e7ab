// Root-only test bed: three network namespaces A, B and C ("cnt-*" names),
// A linked to B (10.201.0.1 <-> .2) and to C (10.201.0.5 <-> .6) by veth
// pairs, UDP echo servers in B and C, and an RTT/loss prober for A.
// Everything is removed in the destructor, also when a test fails (deleting
// a namespace removes its links, rules and qdiscs with it).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/command_runner.h"

namespace chaos::testing {

inline constexpr const char* kAddressA = "10.201.0.1";
inline constexpr const char* kAddressB = "10.201.0.2";
inline constexpr const char* kAddressAtoC = "10.201.0.5";
inline constexpr const char* kAddressC = "10.201.0.6";

// Moves the calling thread into a namespace until destroyed. Threads and
// child processes started meanwhile inherit it.
class NamespaceEntry {
 public:
  explicit NamespaceEntry(const std::string& namespace_name);
  ~NamespaceEntry();
  NamespaceEntry(const NamespaceEntry&) = delete;
  NamespaceEntry& operator=(const NamespaceEntry&) = delete;

 private:
  int original_ = -1;
};

class UdpEchoServer {
 public:
  UdpEchoServer(const std::string& namespace_name, int port);
  ~UdpEchoServer();
  UdpEchoServer(const UdpEchoServer&) = delete;
  UdpEchoServer& operator=(const UdpEchoServer&) = delete;
  // Datagrams received per sequence number seen (for duplicate checks).
  std::uint64_t received() const { return received_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> received_{0};
  std::atomic<bool> ready_{false};
  std::string failure_;  // written before ready_, read after it
  std::thread thread_;
};

class NetworkTestBed {
 public:
  // `instance` (one character, e.g. "1") tells apart several beds of one
  // process; names stay within the 15 characters of a link name.
  explicit NetworkTestBed(const std::string& instance = "");
  ~NetworkTestBed();
  NetworkTestBed(const NetworkTestBed&) = delete;
  NetworkTestBed& operator=(const NetworkTestBed&) = delete;

  bool ok() const { return ok_; }
  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }
  const std::string& c() const { return c_; }
  // A's end of the A-B link.
  const std::string& link_a_to_b() const { return link_ab_; }
  // A's end of the A-C link.
  std::string link_a_to_c() const { return "cntac" + link_ab_.substr(5); }

  CommandResult run_in_a(const std::vector<std::string>& argv);
  // `nft list ruleset`, `iptables-save` and `tc qdisc show` inside A.
  std::string kernel_state_of_a();
  // The whole nftables ruleset of A without counters (iptables-nft tables
  // included) and its qdiscs: equal before a fault and after its revert.
  std::string full_ruleset_of_a();

 private:
  bool ok_ = false;
  std::string a_, b_, c_, link_ab_;
  ProcessCommandRunner commands_;
};

// Sequential UDP round trips from the calling thread's namespace; nullopt
// for a probe that got no answer within `timeout_ms`.
std::vector<std::optional<double>> measure_rtts_ms(const std::string& address, int port, int count,
                                                   int timeout_ms, int payload_bytes = 32);
double median_ms(const std::vector<std::optional<double>>& rtts);
int answered(const std::vector<std::optional<double>>& rtts);

// Sends `count` datagrams paced `gap_us` apart, then waits for echoes;
// returns how many distinct sequence numbers came back.
int count_echoes(const std::string& address, int port, int count, int gap_us);

// An IPv4 socket address for `ip` (dotted quad) and `port`.
sockaddr_in address_of(const std::string& ip, int port);

}  // namespace chaos::testing
