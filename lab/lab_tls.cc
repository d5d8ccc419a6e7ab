#include "lab/lab_tls.h"

#include "common/pki.h"
#include "lab/lab_files.h"

namespace chaos::lab {

std::string lab_certs_dir(const LabLayout& layout) { return layout.path("certs"); }

Status create_lab_certificates(const LabLayout& layout, CommandRunner& runner) {
  pki::CertificateAuthority authority(runner, lab_certs_dir(layout));
  // A lab lives hours, not years; a fresh CA per `lab up`.
  CHAOS_RETURN_IF_ERROR(authority.init(30, /*force=*/true).status().with_context("lab CA"));
  for (int node = 1; node <= layout.node_count(); ++node) {
    pki::IssueRequest agent;
    agent.role = pki::CertificateRole::kAgent;
    agent.name = layout.node_name(node);
    agent.sans = {layout.node_host(node), layout.node_ip(node)};
    agent.days = 30;
    CHAOS_RETURN_IF_ERROR(authority.issue(agent, true).status().with_context("lab agent certificate"));
  }
  pki::IssueRequest client;
  client.role = pki::CertificateRole::kClient;
  client.name = kLabClientName;
  client.days = 30;
  return authority.issue(client, true).status().with_context("lab client certificate");
}

std::vector<std::string> agent_tls_args(const LabLayout& layout, int node) {
  // Same file names as pki::CertificateAuthority writes.
  const std::string prefix = lab_certs_dir(layout) + "/" + layout.node_name(node);
  return {"--tls-cert", prefix + ".crt", "--tls-key", prefix + ".key", "--tls-client-ca",
          lab_certs_dir(layout) + "/ca.crt"};
}

std::string render_inventory_tls(const LabLayout& layout) {
  const std::string dir = lab_certs_dir(layout);
  return "[tls]\nca = " + quoted(dir + "/ca.crt") + "\ncert = " + quoted(dir + "/" + kLabClientName + ".crt") +
         "\nkey = " + quoted(dir + "/" + kLabClientName + ".key") + "\n";
}

}  // namespace chaos::lab
