// deploy/schedule/ and deploy/ci/ checked offline: the systemd timer and
// service, the Kubernetes CronJob and the CI examples must run a suite
// through `chaosctl run` and keep (or publish) what it writes. systemd units
// are read as INI (systemd-analyze verify wants the installed binary), the
// YAML with libyaml.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "orchestrator/experiment/experiment_loader.h"
#include "orchestrator/suite/suite_loader.h"
#include "tests/unit/deploy/yaml_documents.h"

namespace chaos::deploy::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using nlohmann::json;

fs::path schedule_source_dir() {
  const char* dir = std::getenv("CHAOS_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

std::string schedule_read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "[Section]" -> key -> values (a key may repeat, like ExecStartPre=).
using UnitFile = std::map<std::string, std::multimap<std::string, std::string>>;

UnitFile parse_unit(const std::string& text) {
  UnitFile unit;
  std::string section;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const auto equals = line.find('=');
    if (equals != std::string::npos) unit[section].emplace(line.substr(0, equals), line.substr(equals + 1));
  }
  return unit;
}

std::string unit_value(const UnitFile& unit, const std::string& section, const std::string& key) {
  auto found = unit.find(section);
  if (found == unit.end()) return "";
  auto value = found->second.find(key);
  return value == found->second.end() ? "" : value->second;
}

std::vector<std::string> words(const std::string& command) {
  std::istringstream in(command);
  std::vector<std::string> result;
  for (std::string word; in >> word;) result.push_back(word);
  return result;
}

// The value after `flag` in argv, or "" when the flag is missing.
std::string flag_value(const std::vector<std::string>& argv, const std::string& flag) {
  auto at = std::find(argv.begin(), argv.end(), flag);
  return at == argv.end() || at + 1 == argv.end() ? "" : *(at + 1);
}

// `chaosctl run --suite FILE --report-dir DIR` (and --history FILE when
// asked): what every scheduled game day and CI stage runs.
void expect_suite_run(const std::vector<std::string>& argv, bool with_history, const std::string& where) {
  ASSERT_GE(argv.size(), 2u) << where;
  EXPECT_EQ(fs::path(argv[0]).filename(), "chaosctl") << where;
  EXPECT_EQ(argv[1], "run") << where;
  EXPECT_NE(flag_value(argv, "--suite"), "") << where << ": no --suite FILE";
  EXPECT_NE(flag_value(argv, "--report-dir"), "") << where << ": no --report-dir DIR";
  if (with_history) {
    EXPECT_NE(flag_value(argv, "--history"), "") << where << ": no --history FILE";
  }
}

std::vector<json> yaml_file(const std::string& relative) {
  auto documents = parse_yaml_documents(schedule_read(schedule_source_dir() / relative), relative);
  EXPECT_TRUE(documents.ok()) << documents.status().message();
  return documents.ok() ? *documents : std::vector<json>{};
}

TEST(ScheduleExamples, TheTimerStartsTheGameDayServiceWhichRunsTheSuiteWithHistoryAndReports) {
  const auto timer = parse_unit(schedule_read(schedule_source_dir() / "deploy/schedule/chaosctl-game-day.timer"));
  const std::string service_name = unit_value(timer, "Timer", "Unit");
  EXPECT_EQ(service_name, "chaosctl-game-day.service");
  EXPECT_NE(unit_value(timer, "Timer", "OnCalendar"), "");
  EXPECT_EQ(unit_value(timer, "Install", "WantedBy"), "timers.target");
  const fs::path service_path = schedule_source_dir() / "deploy/schedule" / service_name;
  ASSERT_TRUE(fs::exists(service_path)) << service_path;
  const auto service = parse_unit(schedule_read(service_path));
  EXPECT_EQ(unit_value(service, "Service", "Type"), "oneshot");
  const auto argv = words(unit_value(service, "Service", "ExecStart"));
  expect_suite_run(argv, true, "ExecStart");
  // The history and the reports are kept in the unit's state directory.
  const std::string state = "/var/lib/" + unit_value(service, "Service", "StateDirectory");
  EXPECT_EQ(fs::path(flag_value(argv, "--history")).parent_path(), state);
  EXPECT_EQ(flag_value(argv, "--report-dir").rfind(state + "/", 0), 0u) << flag_value(argv, "--report-dir");
  // chaosctl refuses a report dir that holds a report: the last game day's
  // is moved away first (or the run would have to replace it).
  bool moved_away = false;
  const auto& service_lines = service.at("Service");
  for (auto [line, end] = service_lines.equal_range("ExecStartPre"); line != end; ++line) {
    const auto pre = words(line->second);
    moved_away |= pre.size() == 3 && fs::path(pre[0]).filename() == "mv" && pre[1] == flag_value(argv, "--report-dir");
  }
  EXPECT_TRUE(moved_away || std::find(argv.begin(), argv.end(), "--replace-report") != argv.end())
      << "no ExecStartPre=mv of " << flag_value(argv, "--report-dir");
}

TEST(ScheduleExamples, TheCronJobRunsOneGameDayAtATimeWithHistoryOnAVolumeClaim) {
  json cronjob, claim;
  for (const json& document : yaml_file("deploy/schedule/kubernetes-cronjob.yaml")) {
    if (document.value("kind", "") == "CronJob") cronjob = document;
    if (document.value("kind", "") == "PersistentVolumeClaim") claim = document;
  }
  ASSERT_TRUE(cronjob.is_object()) << "no CronJob";
  ASSERT_TRUE(claim.is_object()) << "no PersistentVolumeClaim";
  const json& spec = cronjob["spec"];
  EXPECT_TRUE(spec.contains("schedule") && spec["schedule"].is_string() && !spec["schedule"].get<std::string>().empty());
  EXPECT_EQ(spec.value("concurrencyPolicy", ""), "Forbid");
  EXPECT_EQ(spec["jobTemplate"]["spec"].value("backoffLimit", -1), 0);
  const json& pod = spec["jobTemplate"]["spec"]["template"]["spec"];
  EXPECT_EQ(pod.value("restartPolicy", ""), "Never");
  ASSERT_TRUE(pod["containers"].is_array() && !pod["containers"].empty());
  const json& container = pod["containers"][0];
  ASSERT_TRUE(container["command"].is_array()) << "no command";
  const auto argv = container["command"].get<std::vector<std::string>>();
  expect_suite_run(argv, true, "CronJob command");
  // --history lives on the claim's volume.
  std::string claim_volume;
  for (const json& volume : pod["volumes"]) {
    if (volume.contains("persistentVolumeClaim") &&
        volume["persistentVolumeClaim"].value("claimName", "") == claim["metadata"].value("name", "?")) {
      claim_volume = volume.value("name", "");
    }
  }
  ASSERT_NE(claim_volume, "") << "no volume of the claim";
  std::string state_mount;
  for (const json& mount : container["volumeMounts"]) {
    if (mount.value("name", "") == claim_volume) state_mount = mount.value("mountPath", "");
  }
  ASSERT_NE(state_mount, "") << "the claim is not mounted";
  EXPECT_EQ(flag_value(argv, "--history").rfind(state_mount + "/", 0), 0u);
  // The same report dir every week: without this the second game day is refused.
  EXPECT_THAT(argv, Contains("--replace-report"));
  EXPECT_EQ(cronjob["metadata"].value("namespace", ""), "chaos");
}

TEST(ScheduleExamples, GitHubActionsRunsTheSuiteAndPublishesJunitAndReportsAlways) {
  const auto documents = yaml_file("deploy/ci/github-actions.yml");
  ASSERT_EQ(documents.size(), 1u);
  const json& workflow = documents[0];
  ASSERT_TRUE(workflow["on"]["schedule"].is_array()) << "no schedule trigger";
  EXPECT_NE(workflow["on"]["schedule"][0].value("cron", ""), "");
  ASSERT_TRUE(workflow["jobs"].is_object() && !workflow["jobs"].empty());
  const json& steps = workflow["jobs"].begin().value()["steps"];
  std::string report_dir;
  std::vector<std::string> published;
  for (const json& step : steps) {
    const auto argv = words(step.value("run", ""));
    if (argv.size() >= 2 && argv[0] == "chaosctl") {
      expect_suite_run(argv, false, "the run step");
      report_dir = flag_value(argv, "--report-dir");
    }
    if (step.value("uses", "").rfind("actions/upload-artifact", 0) == 0) {
      EXPECT_EQ(step.value("if", ""), "always()") << "publish also when the suite fails";
      published.push_back(step["with"].value("path", ""));
    }
  }
  ASSERT_NE(report_dir, "") << "no step runs chaosctl";
  EXPECT_THAT(published, Contains(report_dir + "/junit.xml"));
  EXPECT_THAT(published, Contains(report_dir + "/"));
}

TEST(ScheduleExamples, GitLabCiRunsTheSuiteAndPublishesJunitAndReportsAlways) {
  const auto documents = yaml_file("deploy/ci/gitlab-ci.yml");
  ASSERT_EQ(documents.size(), 1u);
  const json& job = documents[0]["chaos-game-day"];
  ASSERT_TRUE(job.is_object()) << "no job chaos-game-day";
  ASSERT_TRUE(job["script"].is_array() && !job["script"].empty());
  const auto argv = words(job["script"][0].get<std::string>());
  expect_suite_run(argv, false, "the script");
  const std::string report_dir = flag_value(argv, "--report-dir");
  const json& artifacts = job["artifacts"];
  EXPECT_EQ(artifacts.value("when", ""), "always");
  EXPECT_EQ(artifacts["reports"].value("junit", ""), report_dir + "/junit.xml");
  ASSERT_TRUE(artifacts["paths"].is_array());
  EXPECT_THAT(artifacts["paths"].get<std::vector<std::string>>(), Contains(report_dir + "/"));
  EXPECT_THAT(documents[0]["stages"].get<std::vector<std::string>>(), Contains(job.value("stage", "")));
}

// The suite the CI examples run ships with the repository and loads, and so
// does every experiment it names (offline: no inventory needed).
TEST(ScheduleExamples, TheSuiteTheCiExamplesRunLoadsWithEveryExperiment) {
  const auto suite = orchestrator::load_suite((schedule_source_dir() / "experiments/suites/game-day.toml").string());
  ASSERT_TRUE(suite.ok()) << suite.status().message();
  EXPECT_TRUE(orchestrator::is_suite_file((schedule_source_dir() / "experiments/suites/game-day.toml").string()));
  ASSERT_FALSE(suite->entries.empty());
  orchestrator::LoadOptions offline;
  offline.resolve_agents = false;
  for (const auto& entry : suite->entries) {
    const auto experiment = orchestrator::load_experiment(entry.file, offline);
    EXPECT_TRUE(experiment.ok()) << experiment.status().message();
  }
}

}  // namespace
}  // namespace chaos::deploy::testing
