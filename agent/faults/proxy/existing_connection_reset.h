// reset_existing: the connections in a tcp.* fault's scope that were open
// before its redirect existed (and so bypass the proxy) get a RST, through
// `ss -K` (the kernel's SOCK_DESTROY), so their clients reconnect through
// the proxy. Run after the redirect is installed: a client that reconnects
// at once cannot slip past the fault; a connection proxied in the few
// milliseconds between the two is reset as well.
//
// Only sockets of the network namespace the command runs in are seen: a
// connection this node merely routes (nat prerouting without a local end)
// cannot be reset this way.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "agent/faults/proxy/tcp_fault_spec.h"
#include "common/command_runner.h"
#include "common/status.h"

namespace chaos::agent::proxy {

// `ss -K -H -t -n state established <filter>`: with local clients, sockets
// whose remote end is port (and address); with remote clients, sockets
// whose local end is port (and address): the server's end.
std::vector<std::string> existing_connection_reset_argv(const TcpScopeSpec& scope);

// The number of sockets reset (ss prints each one it destroyed). An
// error when ss cannot run or fails.
StatusOr<std::size_t> reset_existing_connections(CommandRunner& commands, const TcpScopeSpec& scope);

}  // namespace chaos::agent::proxy
