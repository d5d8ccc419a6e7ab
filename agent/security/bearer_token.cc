#include "agent/security/bearer_token.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <array>
#include <cctype>
#include <fstream>

namespace chaos::agent {

namespace {

constexpr std::size_t kMinTokenLength = 16;
constexpr std::size_t kMaxTokenLength = 4096;
constexpr const char* kScheme = "Bearer ";

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

Digest sha256(const std::string& text) {
  Digest digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

}  // namespace

StatusOr<std::string> load_token_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return not_found(path + ": cannot read token file");
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return permission_denied(path + ": token file must not be accessible by group or others (chmod 600)");
  }
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) return invalid_argument(path + ": token file is empty");
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())) != 0) token.pop_back();
  if (token.size() < kMinTokenLength) {
    return invalid_argument(path + ": token must be at least " + std::to_string(kMinTokenLength) + " characters");
  }
  if (token.size() > kMaxTokenLength) return invalid_argument(path + ": token is longer than 4096 characters");
  return token;
}

bool bearer_token_matches(const std::string& expected, const std::string& authorization) {
  const std::string scheme(kScheme);
  const bool has_scheme = authorization.compare(0, scheme.size(), scheme) == 0;
  const std::string presented = has_scheme ? authorization.substr(scheme.size()) : std::string();
  const Digest want = sha256(expected);
  const Digest got = sha256(presented);
  const bool equal = CRYPTO_memcmp(want.data(), got.data(), want.size()) == 0;
  return has_scheme && !expected.empty() && equal;
}

}  // namespace chaos::agent
