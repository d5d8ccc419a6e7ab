// A real `prometheus` on a free loopback port with a temporary config and
// data directory, scraping the given targets every second. Killed and
// reaped in the destructor, also when a test fails.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <fstream>
#include <string>
#include <vector>

#include "lab/testbed/agent_harness.h"
#include "tests/support/free_loopback_port.h"
#include "lab/testbed/safe_kill.h"

namespace chaos::orchestrator::integration {

using ::chaos::test_support::free_loopback_port;

class PrometheusServer {
 public:
  // `file_sd` (optional): a file_sd JSON file read as job chaos-agents.
  // `web_config`: a --web.config.file (TLS, basic auth); its tls_server_config
  // makes url() https.
  PrometheusServer(const std::string& dir, const std::vector<std::string>& targets, const std::string& file_sd = "",
                   const std::string& web_config = "", bool https = false)
      : port_(free_loopback_port()), https_(https) {
    std::ofstream config(dir + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
           << "  - job_name: cor-agent\n    static_configs:\n      - targets: [";
    for (size_t i = 0; i < targets.size(); ++i) config << (i ? ", " : "") << "'" << targets[i] << "'";
    config << "]\n";
    if (!file_sd.empty()) {
      config << "  - job_name: chaos-agents\n    file_sd_configs:\n      - files: ['" << file_sd
             << "']\n        refresh_interval: 1s\n";
    }
    config.close();
    std::vector<std::string> argv = {"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
                                     "--storage.tsdb.path=" + dir + "/data",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
    if (!web_config.empty()) argv.push_back("--web.config.file=" + web_config);
    pid_ = agent::integration::spawn(argv, dir + "/prometheus.log");
  }
  ~PrometheusServer() {
    if (pid_ <= 0) return;  // the fork failed: waitpid(-1) would reap another child
    ::chaos::test_support::safe_kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  std::string url() const { return (https_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_); }

 private:
  int port_;
  bool https_ = false;
  pid_t pid_;
};

}  // namespace chaos::orchestrator::integration
