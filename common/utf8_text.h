// Text read from the node or from a remote party (a process's comm cut at 15
// bytes, a container's resolv.conf, a firewall rule's comment, a proxy's
// Latin-1 page) on its way into a format that must be UTF-8: a proto3
// string field, whose parser rejects the whole message otherwise, or an
// XML or JSON document.
#pragma once

#include <string>
#include <string_view>

namespace chaos {

// `text` with every byte sequence that is not UTF-8 replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

}  // namespace chaos
