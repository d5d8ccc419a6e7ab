// `chaosctl history [EXPERIMENT]`: the recorded runs, newest first, and the
// trend page behind `chaosctl report --history`.
#include <chrono>
#include <filesystem>
#include <iostream>

#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"
#include "orchestrator/commands/history_support.h"
#include "orchestrator/history/history_listing.h"
#include "orchestrator/history/history_page.h"
#include "orchestrator/history/history_store.h"
#include "orchestrator/run/journal_json.h"

namespace chaos::orchestrator {

namespace {

struct HistoryCommandFlags {
  std::string experiment;
  std::string file;
  std::string output = "text";
  size_t limit = 20;
};

int list_history(const HistoryCommandFlags& flags) {
  const auto path = flags.file.empty() ? history::default_history_path() : std::optional(flags.file);
  if (!path) {
    std::cerr << "chaosctl history: no --history and neither CHAOSCTL_HISTORY, XDG_STATE_HOME nor HOME is set\n";
    return kExitUsage;
  }
  std::vector<history::HistoryEntry> entries;
  auto store = history::open_history_store(*path, {history::HistoryOpenMode::kExisting});
  if (!store.ok() && store.status().code() != StatusCode::kNotFound) {
    std::cerr << "chaosctl history: " << store.status().message() << "\n";
    return kExitError;
  }
  if (store.ok()) {
    auto listed = (*store)->list({flags.experiment, flags.limit, 0});
    if (!listed.ok()) {
      std::cerr << "chaosctl history: " << listed.status().message() << "\n";
      return kExitError;
    }
    entries = std::move(*listed);
  }
  if (flags.output == "json") {
    std::cout << history::history_to_json(entries).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << history::format_history_text(entries);
    if (!store.ok()) std::cout << "(" << *path << " does not exist yet)\n";
  }
  return kExitOk;
}

}  // namespace

int render_history_report(const std::string& file, const std::string& output) {
  const auto path = file.empty() ? history::default_history_path() : std::optional(file);
  if (!path) {
    std::cerr << "chaosctl report: no --history FILE and neither CHAOSCTL_HISTORY, XDG_STATE_HOME nor HOME is set\n";
    return kExitUsage;
  }
  auto store = history::open_history_store(*path, {history::HistoryOpenMode::kExisting});
  if (!store.ok()) {
    std::cerr << "chaosctl report: " << store.status().message() << "\n";
    return kExitError;
  }
  // The newest runs of each experiment, and a bound on the whole page.
  auto entries = (*store)->list({"", history::kHistoryMaxListed, history::kHistoryPageRunsPerExperiment});
  if (!entries.ok()) {
    std::cerr << "chaosctl report: " << entries.status().message() << "\n";
    return kExitError;
  }
  history::HistoryPageOptions options;
  options.source = *path;
  options.generated_at =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::filesystem::path target(output.empty() ? "history.html" : output);
  const std::string parent = target.parent_path().empty() ? "." : target.parent_path().string();
  const Status written =
      write_report_file(parent, target.filename().string(), history::render_history_page(*entries, options));
  if (!written.ok()) {
    std::cerr << "chaosctl report: " << written.message() << "\n";
    return kExitError;
  }
  std::cout << "history report: " << target.string() << " (" << entries->size() << " runs)\n";
  return kExitOk;
}

void add_history_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<HistoryCommandFlags>();
  CLI::App* command = app.add_subcommand(
      "history", "List recorded runs, newest first (verdict, time to recovery and to detect, faults)");
  command->add_option("experiment", flags->experiment, "Only runs of this experiment (its title or file path)");
  command->add_option("--history", flags->file,
                      "History database (default: $CHAOSCTL_HISTORY, else "
                      "$XDG_STATE_HOME/chaosctl/history.sqlite, else ~/.local/state/chaosctl/history.sqlite)");
  command->add_option("--limit,-n", flags->limit, "Show at most this many runs")
      ->check(CLI::Range(size_t{1}, history::kHistoryMaxListed))
      ->capture_default_str();
  add_output_option(*command, flags->output);
  command->callback([flags, &exit_code] { exit_code = list_history(*flags); });
}

}  // namespace chaos::orchestrator
