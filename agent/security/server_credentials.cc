#include "agent/security/server_credentials.h"

#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

namespace chaos::agent {

namespace {
constexpr std::size_t kMaxPemSize = 1 << 20;
}

StatusOr<std::string> read_pem_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(path + ": cannot read " + what);
  std::ostringstream text;
  text << in.rdbuf();
  const std::string pem = text.str();
  if (pem.empty() || pem.size() > kMaxPemSize || pem.find("-----BEGIN ") == std::string::npos) {
    return invalid_argument(path + ": " + what + " is not a PEM file");
  }
  return pem;
}

StatusOr<std::shared_ptr<grpc::ServerCredentials>> make_server_credentials(const TlsFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  CHAOS_ASSIGN_OR_RETURN(options.pem_root_certs, read_pem_file(tls.client_ca, "client CA certificate"));
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  CHAOS_ASSIGN_OR_RETURN(pair.private_key, read_pem_file(tls.key, "TLS key"));
  CHAOS_ASSIGN_OR_RETURN(pair.cert_chain, read_pem_file(tls.cert, "TLS certificate"));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(options);
}

}  // namespace chaos::agent
