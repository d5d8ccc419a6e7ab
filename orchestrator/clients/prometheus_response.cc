// Parsing of the Prometheus HTTP API's JSON answers.
#include <cmath>
#include <cstdlib>
#include <limits>

#include <nlohmann/json.hpp>

#include "orchestrator/clients/prometheus_client.h"

namespace chaos::orchestrator {

namespace {

using nlohmann::json;

std::string text_field(const json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

Status bad_answer(const std::string& query, const std::string& what) {
  return internal_error("prometheus answered query '" + query + "' with " + what);
}

StatusOr<SamplePoint> parse_point(const json& pair, const std::string& query) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_string()) {
    return bad_answer(query, "a malformed sample " + pair.dump().substr(0, 200));
  }
  SamplePoint point;
  point.timestamp = pair[0].get<double>();
  point.text = pair[1].get<std::string>();
  point.value = parse_prometheus_float(point.text);
  return point;
}

StatusOr<Series> parse_series(const json& item, const std::string& query) {
  if (!item.is_object()) return bad_answer(query, "a result item that is not an object");
  Series series;
  if (item.contains("metric") && item["metric"].is_object()) {
    for (const auto& [key, value] : item["metric"].items()) {
      if (value.is_string()) series.labels[key] = value.get<std::string>();
    }
  }
  if (item.contains("value")) {
    CHAOS_ASSIGN_OR_RETURN(auto point, parse_point(item["value"], query));
    series.points.push_back(point);
  } else if (item.contains("values") && item["values"].is_array()) {
    for (const auto& pair : item["values"]) {
      CHAOS_ASSIGN_OR_RETURN(auto point, parse_point(pair, query));
      series.points.push_back(point);
    }
  } else {
    return bad_answer(query, "a result item without value(s)");
  }
  return series;
}

StatusOr<QueryResult> parse_data(const json& data, const std::string& query) {
  QueryResult result;
  if (!data.is_object() || !data.contains("resultType") || !data["resultType"].is_string() ||
      !data.contains("result")) {
    return bad_answer(query, "no data.resultType/data.result");
  }
  result.result_type = data["resultType"].get<std::string>();
  const json& items = data["result"];
  if (result.result_type == "scalar" || result.result_type == "string") {
    Series series;
    CHAOS_ASSIGN_OR_RETURN(auto point, parse_point(items, query));
    series.points.push_back(point);
    result.series.push_back(series);
    return result;
  }
  if (!items.is_array()) return bad_answer(query, "a result that is not a list");
  for (const auto& item : items) {
    CHAOS_ASSIGN_OR_RETURN(auto series, parse_series(item, query));
    result.series.push_back(std::move(series));
  }
  return result;
}

}  // namespace

double parse_prometheus_float(const std::string& text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || text.empty()) return std::numeric_limits<double>::quiet_NaN();
  return value;
}

StatusOr<QueryResult> parse_query_response(const std::string& body, const std::string& query) {
  const json answer = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object()) return bad_answer(query, "a body that is not JSON");
  const std::string status = text_field(answer, "status");
  if (status == "error") {
    return invalid_argument("prometheus rejected query '" + query + "': " + text_field(answer, "errorType") +
                            ": " + text_field(answer, "error"));
  }
  if (status != "success" || !answer.contains("data")) return bad_answer(query, "status '" + status + "'");
  return parse_data(answer["data"], query);
}

}  // namespace chaos::orchestrator
