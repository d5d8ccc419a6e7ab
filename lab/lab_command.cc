#include "lab/lab_command.h"

#include <iostream>
#include <string>

namespace chaos::lab {

void add_lab_command(CLI::App& app) {
  auto* lab = app.add_subcommand("lab", "Manage the embedded NATS lab (root)");
  lab->require_subcommand(1);
  for (const char* action : {"up", "down", "status"}) {
    lab->add_subcommand(action, std::string("lab ") + action)->callback([] {
      std::cerr << "chaosctl: lab not yet available\n";
      throw CLI::RuntimeError(3);
    });
  }
}

}  // namespace chaos::lab
