#include "orchestrator/run/recovery_timing.h"

#include <gtest/gtest.h>

#include <limits>

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;

const WallTime kRecoveryTimingTestStart = WallTime(std::chrono::seconds(1'800'000'000));

// A series with one sample per second from kRecoveryTimingTestStart; "" leaves that second out.
Series recovery_per_second(const std::vector<std::string>& values, std::map<std::string, std::string> labels = {}) {
  Series series;
  series.labels = std::move(labels);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) continue;
    const double at = std::chrono::duration<double>(kRecoveryTimingTestStart.time_since_epoch()).count() + static_cast<double>(i);
    series.points.push_back({at, values[i], parse_prometheus_float(values[i])});
  }
  return series;
}

CheckRange range_of(const std::string& name, std::vector<Series> series, Comparator comparator = Comparator::kGreaterEqual,
                 double threshold = 0.99) {
  CheckRange range;
  range.condition = {name, name, comparator, threshold};
  range.answer.result_type = "matrix";
  range.answer.series = std::move(series);
  return range;
}

RangeGrid recovery_seconds_grid(int count) { return make_range_grid(kRecoveryTimingTestStart, kRecoveryTimingTestStart + std::chrono::seconds(count - 1), 1000ms); }

TEST(RecoveryTiming, GridRunsFromStartToEndInclusiveAtTheStep) {
  const RangeGrid grid = make_range_grid(kRecoveryTimingTestStart + 300us, kRecoveryTimingTestStart + 10s, 2000ms);
  EXPECT_EQ(grid.count, 6u);  // 0, 2, ..., 10 s
  EXPECT_EQ(grid.start, kRecoveryTimingTestStart);  // millisecond precision, as sent to Prometheus
  EXPECT_EQ(grid.at(5), kRecoveryTimingTestStart + 10s);
  EXPECT_EQ(make_range_grid(kRecoveryTimingTestStart + 1s, kRecoveryTimingTestStart, 1000ms).count, 0u);
}

TEST(RecoveryTiming, RecoveredFromTheFirstInstantAfterWhichEverythingHolds) {
  const std::vector<CheckRange> checks = {range_of("ratio", {recovery_per_second({"0.5", "0.5", "0.5", "1", "1", "1"})})};
  const GridFinding found = first_instant_holding_to_end(checks, recovery_seconds_grid(6));
  ASSERT_TRUE(found.index.has_value());
  EXPECT_EQ(*found.index, 3u);
  EXPECT_EQ(found.check, "ratio");
  EXPECT_EQ(found.check_index, 2u);
}

TEST(RecoveryTiming, HoldingFromTheRevertIsZero) {
  const std::vector<CheckRange> checks = {range_of("ratio", {recovery_per_second({"1", "1", "1"})})};
  const GridFinding found = first_instant_holding_to_end(checks, recovery_seconds_grid(3));
  EXPECT_EQ(found.index, 0u);
  EXPECT_TRUE(found.check.empty());
}

TEST(RecoveryTiming, AFlapAfterTheFirstGoodSampleMovesTheRecoveryPastIt) {
  const std::vector<CheckRange> checks = {range_of("ratio", {recovery_per_second({"0.5", "1", "1", "0.9", "1", "1"})})};
  EXPECT_EQ(first_instant_holding_to_end(checks, recovery_seconds_grid(6)).index, 4u);
}

TEST(RecoveryTiming, AMissingSampleOrNaNDoesNotHold) {
  const std::vector<CheckRange> gap = {range_of("ratio", {recovery_per_second({"1", "1", "", "1", "1"})})};
  EXPECT_EQ(first_instant_holding_to_end(gap, recovery_seconds_grid(5)).index, 3u);
  const std::vector<CheckRange> nan = {range_of("ratio", {recovery_per_second({"1", "NaN", "1", "1"})})};
  EXPECT_EQ(first_instant_holding_to_end(nan, recovery_seconds_grid(4)).index, 2u);
}

TEST(RecoveryTiming, NeverHoldingAtTheEndIsNotRecoveredAndNamesTheCheck) {
  const std::vector<CheckRange> checks = {range_of("ratio", {recovery_per_second({"1", "1", "1"})}),
                                          range_of("p99", {recovery_per_second({"0.05", "0.05", "0.3"})}, Comparator::kLess, 0.1)};
  const GridFinding found = first_instant_holding_to_end(checks, recovery_seconds_grid(3));
  EXPECT_FALSE(found.index.has_value());
  EXPECT_EQ(found.check, "p99");
  EXPECT_EQ(found.check_index, 2u);
  const std::vector<CheckRange> ends_without_data = {range_of("ratio", {recovery_per_second({"1", "1", ""})})};
  EXPECT_FALSE(first_instant_holding_to_end(ends_without_data, recovery_seconds_grid(3)).index.has_value());
}

TEST(RecoveryTiming, EverySeriesOfEveryCheckMustHoldAndTheLatestFailureDecides) {
  const std::vector<CheckRange> checks = {
      range_of("ratio", {recovery_per_second({"0.5", "1", "1", "1", "1", "1"}, {{"node", "n1"}}),
                      recovery_per_second({"1", "1", "0.2", "1", "1", "1"}, {{"node", "n2"}})}),
      range_of("p99", {recovery_per_second({"0.5", "0.05", "0.05", "0.05", "0.05", "0.05"})}, Comparator::kLess, 0.1)};
  const GridFinding found = first_instant_holding_to_end(checks, recovery_seconds_grid(6));
  EXPECT_EQ(found.index, 3u);
  EXPECT_EQ(found.check, "ratio");
  EXPECT_EQ(found.check_index, 2u);
}

TEST(RecoveryTiming, ASeriesThatEndsDoesNotBlockTheOthers) {
  // Like an instant query: the series present at an instant are judged.
  const std::vector<CheckRange> checks = {
      range_of("ratio", {recovery_per_second({"0.5", "0.5", "", "", ""}, {{"node", "old leader"}}),
                      recovery_per_second({"1", "1", "1", "1", "1"}, {{"node", "n2"}})})};
  EXPECT_EQ(first_instant_holding_to_end(checks, recovery_seconds_grid(5)).index, 2u);
}

TEST(RecoveryTiming, NoChecksHoldAtTheFirstInstant) {
  EXPECT_EQ(first_instant_holding_to_end({}, recovery_seconds_grid(3)).index, 0u);
  EXPECT_FALSE(first_instant_holding_to_end({}, RangeGrid{}).index.has_value());
}

TEST(RecoveryTiming, SamplesOffTheGridGoToTheNearestInstant) {
  Series series = recovery_per_second({"0.5", "0.5", "1", "1"});
  for (auto& point : series.points) point.timestamp += 0.4;  // a server aligning its steps
  const std::vector<CheckRange> checks = {range_of("ratio", {series})};
  EXPECT_EQ(first_instant_holding_to_end(checks, recovery_seconds_grid(4)).index, 2u);
}

TEST(DetectTiming, FirstViolatedSampleOfAnyCheck) {
  const std::vector<CheckRange> checks = {
      range_of("stall", {recovery_per_second({"0", "1", "2", "20", "3"})}, Comparator::kLess, 15),
      range_of("ratio", {recovery_per_second({"1", "1", "1", "1", "0.5"})})};
  const GridFinding found = first_violated_instant(checks, recovery_seconds_grid(5));
  EXPECT_EQ(found.index, 3u);
  EXPECT_EQ(found.check, "stall");
}

TEST(DetectTiming, AMissingSampleCountsAsViolated) {
  const std::vector<CheckRange> checks = {range_of("ratio", {recovery_per_second({"1", "", "1"})})};
  EXPECT_EQ(first_violated_instant(checks, recovery_seconds_grid(3)).index, 1u);
}

TEST(DetectTiming, NothingViolatedIsNoDetection) {
  const std::vector<CheckRange> checks = {range_of("ratio", {recovery_per_second({"1", "1", "1"})})};
  EXPECT_FALSE(first_violated_instant(checks, recovery_seconds_grid(3)).index.has_value());
  EXPECT_FALSE(first_violated_instant({}, recovery_seconds_grid(3)).index.has_value());
}

TEST(RecoveryTiming, StepStaysUnlessTheWindowNeedsTooManyPoints) {
  EXPECT_EQ(range_step_for(1000ms, 2h), 1000ms);
  EXPECT_EQ(range_step_for(1000ms, 5h), 2000ms);  // 18,000 points at 1 s
  EXPECT_EQ(range_step_for(250ms, 1h), 500ms);
  const auto step = range_step_for(100ms, 24h);
  EXPECT_LE(std::chrono::milliseconds(24h).count() / step.count() + 1,
            static_cast<long long>(kRecoveryTimingMaxPoints));
}

TEST(RecoveryTiming, FiguresReadWithTheirResolution) {
  EXPECT_EQ(recovery_seconds_text(3s), "3.0 s");
  EXPECT_EQ(recovery_seconds_text(2500ms), "2.5 s");
  EXPECT_EQ(recovery_resolution_text(1s), "1 s");
  EXPECT_EQ(recovery_resolution_text(500ms), "500 ms");
  EXPECT_EQ(recovery_resolution_text(1500ms), "1.5 s");
}

}  // namespace
}  // namespace chaos::orchestrator
