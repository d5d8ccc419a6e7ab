#include "orchestrator/commands/lab_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace chaos::orchestrator {

namespace {

std::filesystem::path chaos_lab_path() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path("chaos-lab") : self.parent_path() / "chaos-lab";
}

// Replaces this process with chaos-lab, so its output, signals (Ctrl-C
// during `lab up`) and exit code are the user's directly.
[[noreturn]] void exec_chaos_lab(const std::vector<std::string>& args) {
  const std::string program = chaos_lab_path().string();
  std::vector<char*> argv;
  std::string name = "chaos-lab";
  argv.push_back(name.data());
  std::vector<std::string> copies(args);
  for (auto& arg : copies) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execv(program.c_str(), argv.data());
  const int error = errno;
  std::cerr << "chaosctl lab: cannot run " << program << ": " << std::strerror(error)
            << " (the lab is the chaos-lab binary, installed next to chaosctl by the lab package)\n";
  throw CLI::RuntimeError(3);
}

}  // namespace

void add_lab_command(CLI::App& app) {
  auto* lab = app.add_subcommand("lab", "Manage the embedded NATS JetStream lab (runs chaos-lab; root)");
  // Everything after `lab`, --help included, is chaos-lab's to parse.
  lab->prefix_command();
  lab->set_help_flag();
  lab->allow_extras();
  lab->callback([lab] { exec_chaos_lab(lab->remaining()); });
}

}  // namespace chaos::orchestrator
