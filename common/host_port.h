// "HOST:PORT" / "[V6]:PORT" parsing, shared by every flag and inventory field
// that names an address, so they accept and reject the same spellings.
#pragma once

#include <string>
#include <utility>

#include "common/status.h"

namespace chaos {

// Splits at the last ':' and strips brackets from an IPv6 host; `bracketed`,
// when given, says whether the host was written in brackets. An IPv6 host
// without brackets is an error ("fd00::7:9701": is 9701 the port or part of
// the address?). Port 0 is
// accepted ("any free port" for listeners). `what` names the flag or field in
// the error message.
StatusOr<std::pair<std::string, int>> split_host_port(const std::string& address, const std::string& what,
                                                      bool* bracketed = nullptr);

// True for "fd00::7:9701": an IPv6 address and a port without brackets,
// which split_host_port refuses with a message giving the bracketed form.
bool is_unbracketed_ipv6_host_port(const std::string& address);

// One spelling per address, for telling whether two name the same endpoint:
// an IP literal as inet_ntop writes it ("[0:0::1]:07000" -> "[::1]:7000",
// an IPv6 zone kept after '%'), a host name in lower case without its
// trailing dot, the port as a plain number. An error (naming `what`) for
// anything else: no port, a port out of range, an empty host or one with
// characters no host name has, an IPv6 address without brackets (as
// split_host_port refuses), brackets
// around anything but an IPv6 address, and digits and dots that are no
// IPv4 address ("10.0.0.010": resolvers may read the 010 as octal).
StatusOr<std::string> canonical_host_port(const std::string& address, const std::string& what);

}  // namespace chaos
