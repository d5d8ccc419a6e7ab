// `chaosctl certs init|issue`: a small CA and agent/client certificates for
// mTLS between chaosctl and the agents (see common/pki.h and deploy/).
#include <iostream>

#include "common/command_runner.h"
#include "common/pki.h"
#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"

namespace chaos::orchestrator {

namespace {

struct CertsFlags {
  std::string dir;
  std::string agent;
  std::string client;
  std::vector<std::string> sans;
  int days = 0;
  bool force = false;
};

int print_written(const StatusOr<std::vector<std::string>>& written) {
  if (!written.ok()) {
    std::cerr << "chaosctl: certs: " << written.status().message() << "\n";
    return kExitError;
  }
  for (const auto& path : *written) {
    const bool secret = path.size() > 4 && path.compare(path.size() - 4, 4, ".key") == 0;
    std::cout << "wrote " << path << (secret ? " (private key, 0600)" : "") << "\n";
  }
  return kExitOk;
}

int run_init(const CertsFlags& flags) {
  ProcessCommandRunner runner;
  pki::CertificateAuthority authority(runner, flags.dir);
  return print_written(authority.init(flags.days > 0 ? flags.days : 3650, flags.force));
}

int run_issue(const CertsFlags& flags) {
  if (flags.agent.empty() == flags.client.empty()) {
    std::cerr << "chaosctl: certs issue: give exactly one of --agent NAME or --client NAME\n";
    return kExitError;
  }
  if (!flags.client.empty() && !flags.sans.empty()) {
    std::cerr << "chaosctl: certs issue: --san is for agent certificates\n";
    return kExitError;
  }
  pki::IssueRequest request;
  request.role = flags.agent.empty() ? pki::CertificateRole::kClient : pki::CertificateRole::kAgent;
  request.name = flags.agent.empty() ? flags.client : flags.agent;
  request.sans = flags.sans;
  request.days = flags.days > 0 ? flags.days : 365;
  ProcessCommandRunner runner;
  pki::CertificateAuthority authority(runner, flags.dir);
  return print_written(authority.issue(request, flags.force));
}

}  // namespace

void add_certs_command(CLI::App& app, int& exit_code) {
  CLI::App* certs = app.add_subcommand("certs", "Create a CA and agent/client certificates for mTLS");
  certs->require_subcommand(1);
  auto flags = std::make_shared<CertsFlags>();

  CLI::App* init = certs->add_subcommand("init", "Create DIR/ca.crt and DIR/ca.key (ECDSA P-256)");
  init->add_option("--dir", flags->dir, "Directory for the CA (created 0700)")->required();
  init->add_option("--days", flags->days, "Validity in days (default 3650)")->check(CLI::PositiveNumber);
  init->add_flag("--force", flags->force, "Replace an existing CA (every issued certificate stops working)");
  init->callback([flags, &exit_code] { exit_code = run_init(*flags); });

  CLI::App* issue = certs->add_subcommand("issue", "Issue DIR/NAME.crt and DIR/NAME.key signed by the CA in DIR");
  issue->add_option("--dir", flags->dir, "Directory holding the CA")->required();
  issue->add_option("--agent", flags->agent,
                    "Agent (server) certificate for NAME; chaosctl checks the agent's name against it");
  issue->add_option("--client", flags->client, "Client certificate for chaosctl (subject CN=NAME)");
  issue->add_option("--san", flags->sans, "Extra subject alternative name: DNS name or IP (repeatable)");
  issue->add_option("--days", flags->days, "Validity in days (default 365)")->check(CLI::PositiveNumber);
  issue->add_flag("--force", flags->force, "Replace existing files for NAME");
  issue->callback([flags, &exit_code] { exit_code = run_issue(*flags); });
}

}  // namespace chaos::orchestrator
