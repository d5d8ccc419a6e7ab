// The inventory the loader tests resolve targets against: two brokers and
// a client, on loopback.
#pragma once

namespace chaos::orchestrator::testing {

inline constexpr const char* kThreeAgentInventory = R"([[agents]]
address = "127.0.0.1:9700"
node = "n1"
labels = { role = "broker" }

[[agents]]
address = "127.0.0.1:9710"
node = "n2"
labels = { role = "broker" }

[[agents]]
address = "127.0.0.1:9720"
node = "n3"
labels = { role = "client" }
)";

}  // namespace chaos::orchestrator::testing
