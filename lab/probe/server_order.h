// The order in which the probe tries the NATS servers: the --servers list
// rotated to start at --first-server, and after a forced failover rotated
// past the server that was given up. Pure functions over the URL list.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chaos::lab::probe {

// `servers` rotated so that servers[first] comes first.
std::vector<std::string> rotate_servers(const std::vector<std::string>& servers, std::size_t first);
// Index of `connected_url` (as the client library reports it, e.g.
// "nats://127.0.0.1:4222") in `servers`, comparing host:port without the
// scheme or credentials; nullopt when it is not in the list.
std::optional<std::size_t> find_server(const std::vector<std::string>& servers, std::string_view connected_url);
// The order after giving up `connected_url`: starts right after it, or after
// the first server when it is unknown (not connected at all).
std::vector<std::string> order_after(const std::vector<std::string>& servers, std::string_view connected_url);

}  // namespace chaos::lab::probe
