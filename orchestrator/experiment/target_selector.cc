#include "orchestrator/experiment/target_selector.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace chaos::orchestrator {

namespace {

bool matches(const AgentEndpoint& agent, const Labels& wanted) {
  for (const auto& [key, value] : wanted) {
    const auto found = agent.labels.find(key);
    if (found == agent.labels.end() || found->second != value) return false;
  }
  return true;
}

// Fisher-Yates over mt19937_64 directly: std::shuffle and the standard
// distributions are implementation-defined, mt19937_64's output is not.
void seeded_shuffle(std::vector<AgentEndpoint>& agents, uint64_t seed) {
  std::mt19937_64 random(seed);
  for (size_t i = agents.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(random() % i);
    std::swap(agents[i - 1], agents[j]);
  }
}

}  // namespace

std::vector<AgentEndpoint> select_targets(const std::vector<AgentEndpoint>& agents,
                                          const TargetSelector& selector) {
  std::vector<AgentEndpoint> matching;
  for (const auto& agent : agents) {
    if (matches(agent, selector.labels)) matching.push_back(agent);
  }
  // Order by address first so the pick does not depend on inventory order.
  std::sort(matching.begin(), matching.end(),
            [](const AgentEndpoint& a, const AgentEndpoint& b) { return a.address < b.address; });
  size_t wanted = matching.size();
  if (selector.count) wanted = std::min<size_t>(wanted, *selector.count);
  if (selector.percent) {
    const double share = std::ceil(static_cast<double>(matching.size()) * *selector.percent / 100.0);
    wanted = std::min(wanted, static_cast<size_t>(share));
  }
  if (wanted < matching.size()) {
    seeded_shuffle(matching, selector.seed);
    matching.resize(wanted);
  }
  return matching;
}

std::string describe_labels(const Labels& labels) {
  std::string text = "{";
  for (const auto& [key, value] : labels) {
    text += (text.size() > 1 ? ", " : "") + key + "=" + value;
  }
  return text + "}";
}

}  // namespace chaos::orchestrator
