// A small private CA for mTLS between chaosctl and the agents: one CA, agent
// (server) certificates whose SANs carry the node's name and addresses, and
// client certificates for chaosctl. Everything runs the Debian `openssl`
// binary with argv vectors through a CommandRunner (faked in unit tests).
// Keys are ECDSA P-256 and created 0600 before openssl writes them.
//
//   DIR/ca.crt  DIR/ca.key           certs init
//   DIR/NAME.crt DIR/NAME.key        certs issue --agent NAME | --client NAME
#pragma once

#include <string>
#include <vector>

#include "common/command_runner.h"
#include "common/status.h"

namespace chaos::pki {

// Names become file names and certificate CNs: 1-64 of [A-Za-z0-9._-],
// starting with a letter or digit.
Status check_certificate_name(const std::string& name);
// A DNS name (letters, digits, '-', '.', '*.' prefix) or an IPv4/IPv6
// address; returns the openssl form "DNS:x" or "IP:x".
StatusOr<std::string> subject_alt_name(const std::string& san);

enum class CertificateRole { kAgent, kClient };

struct IssueRequest {
  CertificateRole role = CertificateRole::kAgent;
  std::string name;
  std::vector<std::string> sans;  // the name itself is always a DNS SAN
  int days = 365;
};

class CertificateAuthority {
 public:
  CertificateAuthority(CommandRunner& runner, std::string dir) : runner_(runner), dir_(std::move(dir)) {}

  // Creates DIR (0700) and a CA valid for `days`; refuses to overwrite an
  // existing CA unless `force`. Returns the files written.
  StatusOr<std::vector<std::string>> init(int days, bool force);
  // Issues NAME.crt/NAME.key signed by the CA in DIR.
  StatusOr<std::vector<std::string>> issue(const IssueRequest& request, bool force);

  std::string ca_cert() const { return dir_ + "/ca.crt"; }
  std::string cert_path(const std::string& name) const { return dir_ + "/" + name + ".crt"; }
  std::string key_path(const std::string& name) const { return dir_ + "/" + name + ".key"; }

 private:
  Status run(const std::vector<std::string>& argv);

  CommandRunner& runner_;
  std::string dir_;
};

}  // namespace chaos::pki
