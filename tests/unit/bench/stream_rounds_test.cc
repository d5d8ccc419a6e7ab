// proxy_bench / proxy_veth_bench keep, per path, the whole round with the
// best rate and divide it by that same round's direct stream.
#include <gtest/gtest.h>

#include "bench/proxy/stream_meter.h"

namespace chaos::bench {
namespace {

StreamFigures stream_rounds_figures(double bytes_per_second, double cpu_per_gib) {
  StreamFigures figures;
  figures.bytes_per_second = bytes_per_second;
  figures.cpu_seconds_per_gib = cpu_per_gib;
  figures.gib = 1;
  return figures;
}

TEST(StreamRounds, TheBestRoundIsKeptWholeWithItsOwnDirect) {
  RoundFigures best;
  // Round 1: slower, but the lowest CPU per GiB and the fastest direct.
  keep_best(best, stream_rounds_figures(100, 0.5), stream_rounds_figures(400, 0.4));
  // Round 2: the best rate; its own direct was slower.
  keep_best(best, stream_rounds_figures(150, 0.9), stream_rounds_figures(200, 0.4));
  // Round 3: slower again.
  keep_best(best, stream_rounds_figures(120, 0.3), stream_rounds_figures(300, 0.4));
  EXPECT_EQ(best.path.bytes_per_second, 150);
  EXPECT_EQ(best.path.cpu_seconds_per_gib, 0.9) << "CPU per GiB from the kept round, not the lowest of all";
  EXPECT_EQ(best.direct.bytes_per_second, 200);
  EXPECT_DOUBLE_EQ(best.ratio(), 0.75) << "150 over its own round's 200, not over the best direct 400";
}

TEST(StreamRounds, NoStreamNoRatio) {
  RoundFigures best;
  keep_best(best, StreamFigures{}, StreamFigures{});
  EXPECT_EQ(best.path.bytes_per_second, 0);
  EXPECT_EQ(best.ratio(), 0);
}

}  // namespace
}  // namespace chaos::bench
