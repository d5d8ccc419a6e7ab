// Every PromQL expression in dashboards/*.json (panel targets, including
// panels nested in rows; annotation queries; template variables, with
// `label_values(expr, label)` split into its expression and label), for
// the offline check (promtool) and the lab check (real Prometheus).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace chaos::testing {

struct DashboardQuery {
  std::string dashboard;       // "agents.json"
  std::string where;           // "agents.json / panel 'Reverts by reason'"
  std::string expr;
  std::string variable_label;  // set for label_values(expr, label)
};

std::vector<DashboardQuery> dashboard_queries(const std::string& dashboards_dir);

// Replaces $name and ${name} with values[name].
std::string substitute_variables(std::string expr, const std::map<std::string, std::string>& values);

}  // namespace chaos::testing
