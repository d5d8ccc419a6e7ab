// The optional shared bearer token, checked in addition to mTLS. The token
// lives in a file (never on the command line, where `ps` shows it) and is
// compared in constant time so response timing does not leak it.
#pragma once

#include <string>

#include "common/status.h"

namespace chaos::agent {

// Reads the token: the file's first line, trailing whitespace removed.
// Refuses an empty token, one shorter than 16 characters, and a file that
// group or others can read (the token is a password).
StatusOr<std::string> load_token_file(const std::string& path);

// True when `authorization` is exactly "Bearer <expected>". Both sides are
// hashed (SHA-256) and the digests compared with CRYPTO_memcmp, so the time
// taken depends on neither the token's length nor the first differing byte.
bool bearer_token_matches(const std::string& expected, const std::string& authorization);

}  // namespace chaos::agent
