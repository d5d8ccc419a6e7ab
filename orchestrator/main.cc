// chaosctl: the orchestrator. Runs TOML experiments against agents and
// Prometheus, and offers ad-hoc commands for game days.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "common/version.h"

int main(int argc, char** argv) {
  CLI::App app{"chaosctl: runs chaos experiments against a messaging cluster and reports "
               "an SLO verdict."};
  app.set_version_flag("--version", std::string("chaosctl ") + chaos::kVersion);
  app.require_subcommand(1);

  auto* lab = app.add_subcommand("lab", "Manage the embedded NATS lab (root)");
  lab->require_subcommand(1);
  for (const char* action : {"up", "down", "status"}) {
    lab->add_subcommand(action, std::string("lab ") + action)->callback([] {
      std::cerr << "chaosctl: lab not yet available\n";
      throw CLI::RuntimeError(3);
    });
  }
  CLI11_PARSE(app, argc, argv);
  return 0;
}
