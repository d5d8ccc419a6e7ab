#include "tests/support/dashboard_queries.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

namespace chaos::testing {

namespace {

using nlohmann::json;

void collect_panels(const json& panels, const std::string& file, std::vector<DashboardQuery>& out) {
  for (const auto& panel : panels) {
    for (const auto& target : panel.value("targets", json::array())) {
      if (target.contains("expr")) {
        out.push_back({file, file + " / panel '" + panel.value("title", "?") + "'", target["expr"], ""});
      }
    }
    if (panel.contains("panels")) collect_panels(panel["panels"], file, out);
  }
}

void collect_variables(const json& dashboard, const std::string& file, std::vector<DashboardQuery>& out) {
  static const std::regex label_values(R"(^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$)");
  const json templating = dashboard.value("templating", json::object());
  for (const auto& variable : templating.value("list", json::array())) {
    if (variable.value("type", "") != "query") continue;
    const json& query = variable["query"];
    const std::string text = query.is_string() ? query.get<std::string>() : query.value("query", "");
    const std::string where = file + " / variable '" + variable.value("name", "?") + "'";
    std::smatch match;
    if (std::regex_match(text, match, label_values)) out.push_back({file, where, match[1], match[2]});
    else out.push_back({file, where, text, ""});
  }
}

}  // namespace

std::vector<DashboardQuery> dashboard_queries(const std::string& dashboards_dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dashboards_dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<DashboardQuery> queries;
  for (const auto& path : files) {
    const std::string file = path.filename().string();
    const json dashboard = json::parse(std::ifstream(path));
    collect_panels(dashboard.value("panels", json::array()), file, queries);
    const json annotations = dashboard.value("annotations", json::object());
    for (const auto& annotation : annotations.value("list", json::array())) {
      if (annotation.contains("expr")) {
        queries.push_back({file, file + " / annotation '" + annotation.value("name", "?") + "'", annotation["expr"], ""});
      }
    }
    collect_variables(dashboard, file, queries);
  }
  return queries;
}

std::string substitute_variables(std::string expr, const std::map<std::string, std::string>& values) {
  auto identifier_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (const auto& [name, value] : values) {
    for (const std::string& form : {"${" + name + "}", "$" + name}) {
      const bool bare = form[1] != '{';
      size_t at = 0;
      while ((at = expr.find(form, at)) != std::string::npos) {
        const size_t end = at + form.size();
        if (bare && end < expr.size() && identifier_char(expr[end])) {  // "$node" is not "$node_name"
          at = end;
          continue;
        }
        expr.replace(at, form.size(), value);
        at += value.size();
      }
    }
  }
  return expr;
}

}  // namespace chaos::testing
