#include "orchestrator/clients/slo_evaluator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace chaos::orchestrator {
namespace {

QueryResult vector_of(const std::vector<std::string>& values) {
  QueryResult result;
  result.result_type = "vector";
  for (const auto& text : values) {
    Series series;
    series.points.push_back({1.0, text, parse_prometheus_float(text)});
    result.series.push_back(series);
  }
  return result;
}

Condition at_least(double threshold) { return {"ratio", "q", Comparator::kGreaterEqual, threshold}; }

TEST(SloEvaluator, ThresholdComparators) {
  EXPECT_TRUE(compare(0.99, Comparator::kGreaterEqual, 0.99));
  EXPECT_FALSE(compare(0.98, Comparator::kGreaterEqual, 0.99));
  EXPECT_TRUE(compare(1, Comparator::kLess, 2));
  EXPECT_FALSE(compare(2, Comparator::kLess, 2));
  EXPECT_TRUE(compare(2, Comparator::kLessEqual, 2));
  EXPECT_TRUE(compare(3, Comparator::kGreater, 2));
  EXPECT_TRUE(compare(2, Comparator::kEqual, 2));
  EXPECT_TRUE(compare(3, Comparator::kNotEqual, 2));
}

TEST(SloEvaluator, NaNNeverPassesAnyComparator) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto c : {Comparator::kLess, Comparator::kLessEqual, Comparator::kGreater, Comparator::kGreaterEqual,
                 Comparator::kEqual, Comparator::kNotEqual}) {
    EXPECT_FALSE(compare(nan, c, 1)) << comparator_symbol(c);
  }
  const Evaluation evaluation = evaluate(at_least(0.99), vector_of({"NaN"}));
  EXPECT_TRUE(evaluation.has_data);
  EXPECT_FALSE(evaluation.holds);
  EXPECT_EQ(evaluation.value_text, "NaN");
}

TEST(SloEvaluator, EmptyResultIsNoDataAndFails) {
  const Evaluation evaluation = evaluate(at_least(0), vector_of({}));
  EXPECT_FALSE(evaluation.has_data);
  EXPECT_FALSE(evaluation.holds);
  EXPECT_EQ(evaluation.value_text, "no data");
  EXPECT_EQ(describe(evaluation), "no data (wanted >= 0)");
}

TEST(SloEvaluator, AbortConditionsReadTriggeredOrNotTriggered) {
  const Condition below{"stopped", "rate", Comparator::kLess, 0.2};
  EXPECT_EQ(describe_abort(evaluate(below, vector_of({"0.5"}), Quantifier::kAnySeries)), "0.5 < 0.2 not triggered");
  EXPECT_EQ(describe_abort(evaluate(below, vector_of({"0.1"}), Quantifier::kAnySeries)), "0.1 < 0.2 TRIGGERED");
  EXPECT_EQ(describe_abort(evaluate(below, vector_of({}), Quantifier::kAnySeries)), "no data (not triggered)");
  EXPECT_EQ(describe_abort(evaluate(below, StatusOr<QueryResult>(unavailable("down")))), "query failed: down");
}

TEST(SloEvaluator, QueryErrorFailsWithTheMessage) {
  const Evaluation evaluation = evaluate(at_least(0), StatusOr<QueryResult>(unavailable("down")));
  EXPECT_FALSE(evaluation.holds);
  EXPECT_EQ(evaluation.error, "down");
}

TEST(SloEvaluator, InfinityComparesAsAValue) {
  EXPECT_TRUE(evaluate({"p", "q", Comparator::kGreater, 5}, vector_of({"+Inf"})).holds);
  EXPECT_FALSE(evaluate({"p", "q", Comparator::kLess, 5}, vector_of({"+Inf"})).holds);
  EXPECT_TRUE(evaluate({"p", "q", Comparator::kLess, 5}, vector_of({"-Inf"})).holds);
}

TEST(SloEvaluator, EverySeriesMustHoldAndTheOffenderIsReported) {
  const Evaluation evaluation = evaluate(at_least(0.9), vector_of({"0.95", "0.5", "0.3"}));
  EXPECT_FALSE(evaluation.holds);
  EXPECT_EQ(evaluation.value_text, "0.5");
  EXPECT_EQ(evaluation.series_count, 3u);
  EXPECT_TRUE(evaluate(at_least(0.9), vector_of({"0.95", "0.91"})).holds);
}

TEST(SloEvaluator, AnySeriesFiresAnAbortCondition) {
  const Condition stopped{"stopped", "q", Comparator::kLess, 1};
  const Evaluation fired = evaluate(stopped, vector_of({"5", "0"}), Quantifier::kAnySeries);
  EXPECT_TRUE(fired.holds);
  EXPECT_EQ(fired.value_text, "0");
  EXPECT_FALSE(evaluate(stopped, vector_of({"5", "3"}), Quantifier::kAnySeries).holds);
  EXPECT_FALSE(evaluate(stopped, vector_of({}), Quantifier::kAnySeries).holds);
}

TEST(PrometheusResponse, ParsesVectorScalarMatrixAndErrors) {
  auto vector = parse_query_response(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1700000000.5,"NaN"]}]}})",
      "q");
  ASSERT_TRUE(vector.ok()) << vector.status().message();
  EXPECT_EQ(vector->series.at(0).labels.at("job"), "a");
  EXPECT_TRUE(std::isnan(vector->series[0].points[0].value));
  auto scalar = parse_query_response(R"({"status":"success","data":{"resultType":"scalar","result":[1,"+Inf"]}})", "q");
  ASSERT_TRUE(scalar.ok());
  EXPECT_TRUE(std::isinf(scalar->series[0].points[0].value));
  auto matrix = parse_query_response(
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"]]}]}})", "q");
  ASSERT_TRUE(matrix.ok());
  EXPECT_EQ(matrix->series[0].points.size(), 2u);
  auto error = parse_query_response(R"({"status":"error","errorType":"bad_data","error":"parse error"})", "rate(x[");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().message(), "prometheus rejected query 'rate(x[': bad_data: parse error");
}

TEST(PrometheusResponse, HostileBodiesAreErrorsNotCrashes) {
  const std::vector<std::string> bodies = {
      "", "not json", "[]", R"({"status":5})", R"({"status":"success"})",
      R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,2]}]}})",
      R"({"status":"success","data":{"resultType":"vector","result":7}})",
      std::string(100000, '[') + std::string(100000, ']')};
  for (const auto& body : bodies) EXPECT_FALSE(parse_query_response(body, "q").ok()) << body.substr(0, 40);
}

}  // namespace
}  // namespace chaos::orchestrator
