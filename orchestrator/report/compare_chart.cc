#include "orchestrator/report/compare_chart.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace chaos::orchestrator::report {

namespace {

using nlohmann::json;

constexpr size_t kCompareLegendNodes = 5;

std::string compare_text(const json& object, const char* key, const std::string& path, Status& status) {
  if (!object.is_object() || !object.contains(key) || object[key].is_null()) return "";
  if (!object[key].is_string()) {
    if (status.ok()) status = invalid_argument(path + "." + key + ": expected a string");
    return "";
  }
  return object[key].get<std::string>();
}

double compare_value(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const double value = object[key].get<double>();
  return std::isfinite(value) ? value : std::numeric_limits<double>::quiet_NaN();
}

bool compare_flag(const json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_boolean() && object[key].get<bool>();
}

const json& compare_array(const json& object, const char* key) {
  static const json empty = json::array();
  if (!object.is_object() || !object.contains(key) || !object[key].is_array()) return empty;
  return object[key];
}

// "faulted: n1, n2" (the first few nodes of a large set, then how many more).
std::string side_label(const char* side, const json& nodes) {
  std::string label = std::string(side) + ":";
  size_t shown = 0;
  for (const auto& node : nodes) {
    if (!node.is_string()) continue;
    if (shown == kCompareLegendNodes) {
      label += " and " + std::to_string(nodes.size() - shown) + " more";
      break;
    }
    label += (shown++ == 0 ? " " : ", ") + node.get<std::string>();
  }
  return label;
}

std::string tolerance_text(const json& check) {
  char buffer[64];
  if (check.contains("tolerance") && check["tolerance"].is_number()) {
    std::snprintf(buffer, sizeof buffer, "differ by < %.4g%%", check["tolerance"].get<double>() * 100);
  } else if (check.contains("max_difference") && check["max_difference"].is_number()) {
    std::snprintf(buffer, sizeof buffer, "differ by < %.4g", check["max_difference"].get<double>());
  } else {
    return "";
  }
  return buffer;
}

// The timeline's series for `query`; false when the run did not collect it.
bool series_from_timeline(const json& journal, const std::string& query, const std::string& label,
                          ReportChart& chart) {
  if (query.empty() || !journal.contains("timeline")) return false;
  for (const auto& entry : compare_array(journal["timeline"], "queries")) {
    if (!entry.is_object() || entry.value("query", json()) != json(query)) continue;
    if (entry.contains("error") && entry["error"].is_string() && !entry["error"].get<std::string>().empty()) {
      chart.error += (chart.error.empty() ? "" : "; ") + label + ": " + entry["error"].get<std::string>();
    }
    const json& all = compare_array(entry, "series");
    for (const auto& series : all) {
      ReportSeries parsed;
      parsed.label = label;
      if (all.size() > 1 && series.contains("labels")) parsed.label += " " + series["labels"].dump();
      for (const auto& point : compare_array(series, "points")) {
        if (!point.is_array() || point.size() != 2 || !point[0].is_number() || !point[1].is_string()) continue;
        const std::string text = point[1].get<std::string>();
        char* end = nullptr;
        double value = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0' || !std::isfinite(value)) value = std::numeric_limits<double>::quiet_NaN();
        parsed.points.push_back({point[0].get<double>(), value, text});
      }
      chart.series.push_back(std::move(parsed));
    }
    if (all.empty()) chart.series.push_back({label, {}});
    return true;
  }
  return false;
}

}  // namespace

void add_compare_charts(const json& journal, std::vector<ReportChart>& charts, Status& status) {
  if (!journal.is_object() || !journal.contains("experiment")) return;
  const json& checks = compare_array(journal["experiment"], "compare");
  const json& evaluations = compare_array(journal, "evaluations");
  for (size_t i = 0; i < checks.size(); ++i) {
    const json& check = checks[i];
    const std::string path = "experiment.compare[" + std::to_string(i) + "]";
    const std::string name = compare_text(check, "name", path, status);
    ReportChart chart;
    chart.query = compare_text(check, "query", path, status);
    chart.title = "compare: " + name + " (" + tolerance_text(check) + ")";
    const std::string faulted_label = side_label("faulted", compare_array(check, "faulted_nodes"));
    const std::string control_label = side_label("control", compare_array(check, "control_nodes"));
    ReportSeries faulted{faulted_label, {}}, control{control_label, {}};
    for (size_t e = 0; e < evaluations.size(); ++e) {
      const json& item = evaluations[e];
      if (!item.is_object() || item.value("kind", json()) != json("compare") || item.value("name", json()) != json(name)) {
        continue;
      }
      const std::string at_path = "evaluations[" + std::to_string(e) + "]";
      const double time = parse_rfc3339(compare_text(item, "at", at_path, status)).value_or(std::nan(""));
      const json side_f = item.value("faulted", json::object()), side_c = item.value("control", json::object());
      faulted.points.push_back({time, compare_value(side_f, "value"), compare_text(side_f, "value_text", at_path, status)});
      control.points.push_back({time, compare_value(side_c, "value"), compare_text(side_c, "value_text", at_path, status)});
      ReportEvaluation evaluation;
      evaluation.time = time;
      evaluation.phase = compare_text(item, "phase", at_path, status);
      evaluation.kind = "compare";
      evaluation.name = name;
      evaluation.pass = compare_flag(item, "pass");
      evaluation.has_data = compare_flag(item, "has_data");
      evaluation.value = faulted.points.back().value;  // the dot sits on the faulted line
      evaluation.text = compare_text(item, "value_text", at_path, status);
      chart.evaluations.push_back(evaluation);
    }
    const bool from_range = series_from_timeline(journal, compare_text(check, "faulted_query", path, status),
                                                 faulted_label, chart);
    if (from_range && series_from_timeline(journal, compare_text(check, "control_query", path, status),
                                           control_label, chart)) {
      chart.from_prometheus_range = true;
    } else {
      chart.series = {faulted, control};
    }
    charts.push_back(std::move(chart));
  }
}

}  // namespace chaos::orchestrator::report
