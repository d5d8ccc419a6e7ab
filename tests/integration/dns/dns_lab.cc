#include "tests/integration/dns/dns_lab.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "lab/testbed/safe_kill.h"

namespace chaos::agent::dns::testing {

namespace fs = std::filesystem;

namespace {

const std::string kClientResolvDir = std::string("/etc/netns/") + kClientNamespace;

void kill_pid_in_file(const std::string& path) {
  std::ifstream file(path);
  pid_t pid = 0;
  if (file >> pid && pid > 1) ::chaos::test_support::safe_kill(pid, SIGTERM);
}

}  // namespace

DnsLab::DnsLab() : temp_dir_("/tmp/cdn-dns-lab") {
  tear_down();
  set_up();
}

DnsLab::~DnsLab() { tear_down(); }

std::string DnsLab::client_resolv_conf() const { return kClientResolvDir + "/resolv.conf"; }

void DnsLab::must(const std::vector<std::string>& argv) {
  if (!error_.empty()) return;
  auto result = commands_.run_checked(argv);
  if (!result.ok()) error_ = result.status().to_string();
}

void DnsLab::set_up() {
  std::error_code error;
  fs::create_directories(temp_dir_, error);
  if (!error) fs::create_directories(kClientResolvDir, error);
  if (error) {
    error_ = "creating " + temp_dir_ + " and " + kClientResolvDir + ": " + error.message();
    return;
  }
  // Short timeouts: a faulted lookup should fail within a second or two.
  std::ofstream(client_resolv_conf()) << "nameserver " << kResolverAddress << "\noptions timeout:1 attempts:1\n";
  must({"ip", "netns", "add", kClientNamespace});
  must({"ip", "netns", "add", kServerNamespace});
  must({"ip", "link", "add", "cdn-c0", "netns", kClientNamespace, "type", "veth", "peer", "name", "cdn-s0",
        "netns", kServerNamespace});
  must({"ip", "-n", kClientNamespace, "addr", "add", "10.202.53.1/30", "dev", "cdn-c0"});
  must({"ip", "-n", kServerNamespace, "addr", "add", std::string(kResolverAddress) + "/30", "dev", "cdn-s0"});
  for (const char* netns : {kClientNamespace, kServerNamespace}) {
    must({"ip", "-n", netns, "link", "set", "lo", "up"});
  }
  must({"ip", "-n", kClientNamespace, "link", "set", "cdn-c0", "up"});
  must({"ip", "-n", kServerNamespace, "link", "set", "cdn-s0", "up"});
  // dnsmasq daemonises (the command returns) and writes its pid file; it
  // knows only its own records and has no upstream.
  must({"ip", "netns", "exec", kServerNamespace, "dnsmasq", "--no-resolv", "--no-hosts",
        std::string("--listen-address=") + kResolverAddress, "--bind-interfaces", "--user=root",
        std::string("--host-record=") + kLabName + "," + kLabAddress + ",fd00:202::11",
        std::string("--host-record=") + kOtherName + "," + kOtherAddress,
        "--pid-file=" + temp_dir_ + "/dnsmasq.pid", "--log-facility=" + temp_dir_ + "/dnsmasq.log"});
}

bool DnsLab::use_local_caching_resolver() {
  must({"ip", "netns", "exec", kClientNamespace, "dnsmasq", "--no-resolv", "--no-hosts",
        "--listen-address=127.0.0.1", "--bind-interfaces", "--user=root", "--cache-size=0",
        std::string("--server=") + kResolverAddress, "--pid-file=" + temp_dir_ + "/local-dnsmasq.pid",
        "--log-facility=" + temp_dir_ + "/local-dnsmasq.log"});
  std::ofstream(client_resolv_conf()) << "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
  return ready();
}

void DnsLab::tear_down() {
  kill_pid_in_file(temp_dir_ + "/local-dnsmasq.pid");
  kill_pid_in_file(temp_dir_ + "/dnsmasq.pid");
  for (const char* netns : {kClientNamespace, kServerNamespace}) {
    (void)commands_.run({"ip", "netns", "del", netns});
  }
  std::error_code ignored;
  fs::remove_all(kClientResolvDir, ignored);
  fs::remove_all(temp_dir_, ignored);
}

CommandResult DnsLab::in_client(const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"ip", "netns", "exec", kClientNamespace};
  full.insert(full.end(), argv.begin(), argv.end());
  auto result = commands_.run(full, RunOptions{"", std::chrono::seconds(20)});
  if (!result.ok()) return CommandResult{-1, "", result.status().to_string()};
  return *result;
}

NamespaceThread::NamespaceThread(const std::string& netns) {
  std::promise<std::string> started;
  auto outcome = started.get_future();
  thread_ = std::thread([this, netns, promise = std::move(started)]() mutable { loop(netns, std::move(promise)); });
  error_ = outcome.get();
}

NamespaceThread::~NamespaceThread() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  wakeup_.notify_all();
  thread_.join();
}

void NamespaceThread::run(std::function<void()> work) {
  std::packaged_task<void()> task(std::move(work));
  auto finished = task.get_future();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(task));
  }
  wakeup_.notify_all();
  finished.get();
}

void NamespaceThread::loop(const std::string& netns, std::promise<std::string> started) {
  const int fd = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
    started.set_value("setns into " + netns + ": " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return;
  }
  ::close(fd);
  started.set_value("");
  while (true) {
    std::unique_lock lock(mutex_);
    wakeup_.wait(lock, [&] { return done_ || !queue_.empty(); });
    if (queue_.empty()) return;
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
  }
}

}  // namespace chaos::agent::dns::testing
