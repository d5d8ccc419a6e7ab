// chaos-lab: the embedded NATS JetStream lab for demos, tests and game-day
// rehearsals. Its own binary so the production orchestrator ships no lab
// code; `chaosctl lab ...` runs it from chaosctl's directory.
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "common/version.h"
#include "lab/lab_command.h"

namespace {

int run_chaos_lab(int argc, char** argv) {
  CLI::App app{"chaos-lab: brings up and tears down a NATS JetStream or RabbitMQ lab in network namespaces, with "
               "chaos agents, DNS, Prometheus and a probe (root)."};
  app.set_version_flag("--version", std::string("chaos-lab ") + chaos::kVersion);
  chaos::lab::add_lab_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& error) {
    // A lab command's own outcome (lab_command.cc): passed through as is.
    return error.get_exit_code();
  } catch (const CLI::ParseError& error) {
    // CLI11 gives each kind of usage error its own code; chaos-lab has one.
    // --help and --version exit 0.
    const int code = app.exit(error);
    return code == 0 ? chaos::lab::kLabExitOk : chaos::lab::kLabExitUsage;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_chaos_lab(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "chaos-lab: internal error: " << error.what() << "\n";
  } catch (...) {
    std::cerr << "chaos-lab: internal error: unknown exception\n";
  }
  return chaos::lab::kLabExitError;
}
