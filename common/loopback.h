// Is an address loopback? Shared by the agent (may it listen in plaintext?)
// and chaosctl (may it talk to an agent in plaintext?), so both apply the
// same rule.
#pragma once

#include <string>

namespace chaos {

// True for 127.0.0.0/8, ::1 (also "[::1]" and ::ffff:127.x.y.z) and
// "localhost". The wildcards 0.0.0.0 and :: are NOT loopback: they mean
// every interface. Names other than localhost are not resolved: false.
bool is_loopback_host(const std::string& host);

// The host part of "HOST:PORT" or "[V6]:PORT", without brackets.
std::string host_of_address(const std::string& address);

}  // namespace chaos
