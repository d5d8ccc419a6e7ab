#include "agent/faults/proxy/existing_connection_reset.h"

#include <sys/socket.h>

#include <algorithm>

namespace chaos::agent::proxy {

namespace {

// "dport = :4222 and dst 10.0.0.3" as separate words (ss joins them).
void append_end_filter(std::vector<std::string>& argv, const std::string& port_key, const std::string& address_key,
                       const TcpScopeSpec& scope) {
  argv.insert(argv.end(), {port_key, "=", ":" + std::to_string(scope.port)});
  // ss reads "fd00::3" as host "fd00:" port 3: IPv6 goes in brackets.
  const std::string address = scope.family == AF_INET6 ? "[" + scope.address + "]" : scope.address;
  if (!scope.address.empty()) argv.insert(argv.end(), {"and", address_key, address});
}

}  // namespace

std::vector<std::string> existing_connection_reset_argv(const TcpScopeSpec& scope) {
  std::vector<std::string> argv = {"ss", "-K", "-H", "-t", "-n", "state", "established"};
  if (scope.local && scope.remote) {
    argv.push_back("(");
    append_end_filter(argv, "dport", "dst", scope);
    argv.insert(argv.end(), {")", "or", "("});
    append_end_filter(argv, "sport", "src", scope);
    argv.push_back(")");
  } else if (scope.local) {
    append_end_filter(argv, "dport", "dst", scope);
  } else {
    append_end_filter(argv, "sport", "src", scope);
  }
  return argv;
}

StatusOr<std::size_t> reset_existing_connections(CommandRunner& commands, const TcpScopeSpec& scope) {
  const auto argv = existing_connection_reset_argv(scope);
  auto result = commands.run_checked(argv);
  if (!result.ok()) {
    return result.status().with_context("reset_existing: resetting the connections open on port " +
                                        std::to_string(scope.port));
  }
  const std::string& listed = result->stdout_text;
  return static_cast<std::size_t>(std::count(listed.begin(), listed.end(), '\n'));
}

}  // namespace chaos::agent::proxy
