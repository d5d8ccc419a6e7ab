// "HOST:PORT" / "[V6]:PORT" parsing, shared by every flag and inventory field
// that names an address, so they accept and reject the same spellings.
#pragma once

#include <string>
#include <utility>

#include "common/status.h"

namespace chaos {

// Splits at the last ':' and strips brackets from an IPv6 host. Port 0 is
// accepted ("any free port" for listeners). `what` names the flag or field in
// the error message.
StatusOr<std::pair<std::string, int>> split_host_port(const std::string& address, const std::string& what);

}  // namespace chaos
