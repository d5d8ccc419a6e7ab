// `count` or `percent` of a list of matches, chosen reproducibly for a seed:
// the sampling process targets and container targets share.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace chaos {

// How many of `matches` to keep: at most `count`, or `percent` of them
// rounded up (at least one); both zero: all.
inline std::size_t sample_size(std::size_t matches, std::uint32_t count, double percent) {
  std::size_t wanted = matches;
  if (count > 0) wanted = std::min<std::size_t>(count, matches);
  if (percent > 0 && matches > 0) {
    const double share = std::ceil(static_cast<double>(matches) * percent / 100.0);
    wanted = std::clamp<std::size_t>(static_cast<std::size_t>(share), 1, matches);
  }
  return wanted;
}

// Keeps `wanted` of `items` (given in `order`), the same ones for the same
// seed and items, and leaves them in `order`.
template <typename T, typename Order>
void keep_sample(std::vector<T>& items, std::size_t wanted, std::uint64_t seed, Order order) {
  if (wanted >= items.size()) return;
  std::mt19937_64 random(seed);
  std::shuffle(items.begin(), items.end(), random);
  items.resize(wanted);
  std::sort(items.begin(), items.end(), order);
}

}  // namespace chaos
