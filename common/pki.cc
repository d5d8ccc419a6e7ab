#include "common/pki.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace chaos::pki {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxDnsLength = 253;
const std::vector<std::string> kEcKey = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_'; }

bool is_dns_name(const std::string& text) {
  std::string rest = text.rfind("*.", 0) == 0 ? text.substr(2) : text;
  if (rest.empty() || rest.size() > kMaxDnsLength || rest.front() == '.' || rest.back() == '.') return false;
  if (rest.find("..") != std::string::npos || rest.front() == '-') return false;
  for (char c : rest) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '.') return false;
  }
  return true;
}

bool is_ip(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// A fresh 128-bit serial: no serial file to keep, no collisions in practice.
std::string random_serial() {
  std::random_device random;
  static const char* const kHex = "0123456789abcdef";
  std::string serial = "0x1";  // leading 1: positive and never zero
  for (int i = 0; i < 31; ++i) serial += kHex[random() % 16];
  return serial;
}

// Creates (or truncates) `path` as 0600 so openssl writes the key into a
// file nobody else could ever read, whatever the umask.
Status create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return permission_denied(path + ": cannot create: " + std::strerror(errno));
  const int changed = ::fchmod(fd, 0600);
  ::close(fd);
  if (changed != 0) return permission_denied(path + ": cannot chmod 600: " + std::strerror(errno));
  return {};
}

Status refuse_overwrite(const std::vector<std::string>& paths, bool force) {
  if (force) return {};
  for (const auto& path : paths) {
    if (fs::exists(path)) return already_exists(path + " exists; pass --force to replace it");
  }
  return {};
}

std::string extensions_of(const IssueRequest& request, std::string& san_list) {
  san_list = "subjectAltName=DNS:" + request.name;
  for (const auto& san : request.sans) {
    auto entry = subject_alt_name(san);
    if (entry.ok()) san_list += "," + *entry;
  }
  return request.role == CertificateRole::kAgent ? "extendedKeyUsage=serverAuth" : "extendedKeyUsage=clientAuth";
}

}  // namespace

Status check_certificate_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) return invalid_argument("name must be 1-64 characters");
  if (std::isalnum(static_cast<unsigned char>(name.front())) == 0) {
    return invalid_argument("name '" + name + "' must start with a letter or digit");
  }
  for (char c : name) {
    if (!is_name_char(c)) return invalid_argument("name '" + name + "' may only contain letters, digits, '.', '_', '-'");
  }
  return {};
}

StatusOr<std::string> subject_alt_name(const std::string& san) {
  if (is_ip(san)) return "IP:" + san;
  if (is_dns_name(san)) return "DNS:" + san;
  return invalid_argument("SAN '" + san + "' is neither a DNS name nor an IP address");
}

Status CertificateAuthority::run(const std::vector<std::string>& argv) {
  RunOptions options;
  options.timeout = std::chrono::seconds(30);
  return runner_.run_checked(argv, options).status();
}

StatusOr<std::vector<std::string>> CertificateAuthority::init(int days, bool force) {
  if (days <= 0) return invalid_argument("--days must be positive");
  std::error_code error;
  const bool created = fs::create_directories(dir_, error);
  if (error) return permission_denied(dir_ + ": cannot create directory: " + error.message());
  // Only a directory we made is narrowed; an existing one keeps its mode.
  if (created) fs::permissions(dir_, fs::perms::owner_all, error);
  const std::string key = dir_ + "/ca.key";
  CHAOS_RETURN_IF_ERROR(refuse_overwrite({key, ca_cert()}, force));
  CHAOS_RETURN_IF_ERROR(create_private_file(key));
  std::vector<std::string> argv = {"openssl", "req", "-x509", "-new"};
  argv.insert(argv.end(), kEcKey.begin(), kEcKey.end());
  argv.insert(argv.end(), {"-keyout", key, "-out", ca_cert(), "-days", std::to_string(days), "-subj",
                           "/O=chaos/CN=chaos CA", "-set_serial", random_serial(), "-addext",
                           "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext",
                           "keyUsage=critical,keyCertSign,cRLSign"});
  CHAOS_RETURN_IF_ERROR(run(argv));
  return std::vector<std::string>{ca_cert(), key};
}

StatusOr<std::vector<std::string>> CertificateAuthority::issue(const IssueRequest& request, bool force) {
  CHAOS_RETURN_IF_ERROR(check_certificate_name(request.name));
  if (request.name == "ca") return invalid_argument("name 'ca' is the CA's own file name");
  for (const auto& san : request.sans) CHAOS_RETURN_IF_ERROR(subject_alt_name(san).status());
  if (request.days <= 0) return invalid_argument("--days must be positive");
  if (!fs::exists(ca_cert()) || !fs::exists(dir_ + "/ca.key")) {
    return not_found(dir_ + ": no CA here; run `chaosctl certs init --dir " + dir_ + "` first");
  }
  const std::string key = key_path(request.name);
  const std::string cert = cert_path(request.name);
  CHAOS_RETURN_IF_ERROR(refuse_overwrite({key, cert}, force));
  CHAOS_RETURN_IF_ERROR(create_private_file(key));
  std::string san_list;
  const std::string usage = extensions_of(request, san_list);
  const std::string csr = dir_ + "/." + request.name + ".csr";
  std::vector<std::string> make_csr = {"openssl", "req", "-new"};
  make_csr.insert(make_csr.end(), kEcKey.begin(), kEcKey.end());
  make_csr.insert(make_csr.end(), {"-keyout", key, "-out", csr, "-subj", "/O=chaos/CN=" + request.name, "-addext",
                                   san_list, "-addext", usage, "-addext", "keyUsage=critical,digitalSignature",
                                   "-addext", "basicConstraints=critical,CA:FALSE"});
  Status made = run(make_csr);
  // The CSR is ours (made just above), so copying its extensions is safe.
  if (made.ok()) {
    made = run({"openssl", "x509", "-req", "-in", csr, "-CA", ca_cert(), "-CAkey", dir_ + "/ca.key", "-out", cert,
                "-days", std::to_string(request.days), "-set_serial", random_serial(), "-copy_extensions",
                "copyall"});
  }
  std::error_code ignored;
  fs::remove(csr, ignored);
  CHAOS_RETURN_IF_ERROR(made);
  return std::vector<std::string>{cert, key};
}

}  // namespace chaos::pki
