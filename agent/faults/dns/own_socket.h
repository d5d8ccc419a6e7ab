// Recognises queries the agent itself sent, so a DNS fault never breaks the
// agent's own lookups (e.g. resolving the orchestrator or Prometheus). The
// redirect rule cannot tell them apart: glibc's resolver socket carries no
// mark and the agent shares uid 0 with the programs under test. But after a
// redirect only the destination changes, so the query's source address and
// port are those of the sending socket, and /proc tells whether that socket
// belongs to this process.
#pragma once

#include <sys/socket.h>

#include <set>
#include <string>
#include <string_view>

namespace chaos::agent::dns {

// "0100007F:1F90" (127.0.0.1:8080) as /proc/net/{udp,tcp}{,6} spell a local
// address; empty for a family other than IPv4/IPv6.
std::string proc_net_address(const sockaddr_storage& address);

// Inodes of sockets in a /proc/net/{udp,tcp}{,6} table whose local address
// is `address` (or the wildcard address on the same port).
std::set<unsigned long> socket_inodes_bound_to(std::string_view table_text, const std::string& address);

// True when the socket that sent from `peer` is open in this process. Reads
// the calling thread's namespace's table (/proc/thread-self/net): call it on
// a thread in the namespace the query arrived in (the responder's threads
// in a container have entered the container's).
bool peer_is_own_socket(const sockaddr_storage& peer, bool tcp);

}  // namespace chaos::agent::dns
