#include "agent/leftovers/state_text_normaliser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>

namespace chaos::agent::leftovers {

namespace {

using Tokens = std::vector<std::string>;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

Tokens split_tokens(std::string_view line) {
  Tokens tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) tokens.emplace_back(line.substr(start, i - start));
  }
  return tokens;
}

std::string join(const Tokens& tokens) {
  std::string line;
  for (const auto& token : tokens) line += (line.empty() ? "" : " ") + token;
  return line;
}

// Feeds each input line (cut to the byte bound) to `handle`, which appends
// what it makes of it; stops at the line bound.
class LineSink {
 public:
  explicit LineSink(const TextBounds& bounds) : bounds_(bounds) {}

  bool full() const { return out_.lines.size() >= bounds_.max_lines; }

  void emit(std::string line) {
    if (full()) {
      out_.truncated = true;
      return;
    }
    if (line.size() > bounds_.max_line_bytes) {
      line.resize(bounds_.max_line_bytes);
      out_.truncated = true;
    }
    out_.lines.push_back(std::move(line));
  }

  void for_each_line(std::string_view text, const std::function<void(const Tokens&)>& handle) {
    std::size_t start = 0;
    while (start < text.size()) {
      if (full()) {
        out_.truncated = true;
        return;
      }
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      start = end + 1;
      if (line.size() > bounds_.max_line_bytes) {
        line = line.substr(0, bounds_.max_line_bytes);
        out_.truncated = true;
      }
      Tokens tokens = split_tokens(line);
      if (!tokens.empty()) handle(tokens);
    }
  }

  NormalisedText take() { return std::move(out_); }

 private:
  const TextBounds& bounds_;
  NormalisedText out_;
};

// "counter packets 5 bytes 300" -> "counter"; "expires 3s" and a quota's
// "used 12 bytes" go: they change while nothing is configured differently.
Tokens without_nft_volatile(const Tokens& tokens) {
  Tokens kept;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == "counter" && i + 4 < tokens.size() && tokens[i + 1] == "packets" && tokens[i + 3] == "bytes") {
      kept.push_back("counter");
      i += 4;
    } else if (tokens[i] == "expires" && i + 1 < tokens.size()) {
      i += 1;
    } else if (tokens[i] == "used" && i + 2 < tokens.size() && all_digits(tokens[i + 1])) {
      i += 2;
    } else if (tokens[i] == "#" && i + 1 < tokens.size() && tokens[i + 1] == "handle") {
      break;  // `nft -a` annotations: kernel-allocated
    } else {
      kept.push_back(tokens[i]);
    }
  }
  return kept;
}

bool is_xtables_compat_table(const Tokens& header) {
  static constexpr std::array<std::string_view, 4> kFamilies = {"ip", "ip6", "arp", "bridge"};
  static constexpr std::array<std::string_view, 6> kNames = {"filter", "mangle", "nat", "raw", "security", "broute"};
  return header.size() == 3 && header[0] == "table" &&
         std::find(kFamilies.begin(), kFamilies.end(), header[1]) != kFamilies.end() &&
         std::find(kNames.begin(), kNames.end(), header[2]) != kNames.end();
}

bool is_block_header(const Tokens& tokens) {
  static constexpr std::array<std::string_view, 11> kBlocks = {
      "table", "chain", "set", "map", "flowtable", "counter", "quota", "limit", "ct", "secmark", "synproxy"};
  return tokens.size() >= 2 && tokens.back() == "{" &&
         std::find(kBlocks.begin(), kBlocks.end(), tokens.front()) != kBlocks.end();
}

// Nesting deeper than nft ever prints (table / chain|set|...) is malformed.
constexpr std::size_t kMaxNftDepth = 4;

bool is_builtin_chain(std::string_view chain) {
  return chain == "PREROUTING" || chain == "INPUT" || chain == "FORWARD" || chain == "OUTPUT" ||
         chain == "POSTROUTING";
}

// Qdisc handles the kernel picks for qdiscs added without one start at
// 8001: and count up, so the same configuration re-created reads differently.
// Our root "cafe:" and the fixed ingress/clsact "ffff:" are in that range too
// but are always chosen by name.
std::string without_auto_handle(const std::string& token) {
  const auto colon = token.find(':');
  if (colon != 4) return token;
  const std::string major = token.substr(0, 4);
  if (major == "cafe" || major == "ffff") return token;
  if (!std::all_of(major.begin(), major.end(), [](unsigned char c) { return std::isxdigit(c) && !std::isupper(c); }))
    return token;
  if (major[0] < '8' || (major[0] > '9' && major[0] < 'a')) return token;
  return "8xxx" + token.substr(colon);
}

}  // namespace

NormalisedText normalise_nft_ruleset(std::string_view text, const TextBounds& bounds) {
  LineSink sink(bounds);
  std::vector<std::string> path;
  std::size_t too_deep = 0;  // blocks opened past kMaxNftDepth, not in `path`
  bool in_compat_table = false;
  sink.for_each_line(text, [&](const Tokens& raw) {
    if (raw.front().front() == '#') return;  // "# Warning: table ip mangle is managed by iptables-nft"
    if (raw.size() == 1 && raw.front() == "}") {
      if (too_deep > 0) {
        --too_deep;
      } else if (!path.empty()) {
        path.pop_back();
      }
      if (path.empty()) in_compat_table = false;
      return;
    }
    Tokens tokens = without_nft_volatile(raw);
    if (tokens.empty()) return;
    std::string prefix;
    for (const auto& part : path) prefix += (prefix.empty() ? "" : " / ") + part;
    if (is_block_header(tokens)) {
      tokens.pop_back();
      if (path.empty()) in_compat_table = is_xtables_compat_table(tokens);
      if (path.size() >= kMaxNftDepth) {
        ++too_deep;
        return;
      }
      path.push_back(join(tokens));
      if (!in_compat_table) sink.emit(prefix.empty() ? path.back() : prefix + " / " + path.back());
      return;
    }
    const std::string line = join(tokens);
    // A chain iptables-nft made for itself with the default policy is no
    // change; "policy drop" is.
    if (in_compat_table && starts_with(line, "type ") && line.size() >= 14 &&
        line.compare(line.size() - 14, 14, "policy accept;") == 0) {
      return;
    }
    sink.emit(prefix.empty() ? line : prefix + ": " + line);
  });
  return sink.take();
}

NormalisedText normalise_iptables_save(std::string_view text, const TextBounds& bounds) {
  LineSink sink(bounds);
  std::string table;
  sink.for_each_line(text, [&](const Tokens& raw) {
    const std::string& first = raw.front();
    if (first.front() == '#' || (raw.size() == 1 && first == "COMMIT")) return;
    if (first.front() == '*' && raw.size() == 1) {
      table = first.substr(1);
      return;
    }
    Tokens tokens = raw;
    // `-c`: "[12:3456] -A INPUT ..." and ":INPUT ACCEPT [12:3456]".
    if (tokens.front().front() == '[') tokens.erase(tokens.begin());
    if (tokens.size() > 1 && tokens.back().front() == '[' && tokens.front().front() == ':') tokens.pop_back();
    if (tokens.empty()) return;
    if (tokens.size() == 2 && tokens[0].front() == ':' && tokens[1] == "ACCEPT" &&
        is_builtin_chain(std::string_view(tokens[0]).substr(1))) {
      return;
    }
    const std::string line = join(tokens);
    sink.emit(table.empty() ? line : table + ": " + line);
  });
  return sink.take();
}

NormalisedText normalise_tc(std::string_view text, const TextBounds& bounds) {
  LineSink sink(bounds);
  sink.for_each_line(text, [&](const Tokens& raw) {
    Tokens kept;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if ((raw[i] == "refcnt" || raw[i] == "direct_packets_stat") && i + 1 < raw.size()) {
        ++i;
      } else if (raw[i] == "fh" && i + 1 < raw.size()) {
        kept.push_back("fh");
        ++i;
      } else {
        kept.push_back(without_auto_handle(raw[i]));
      }
    }
    sink.emit(join(kept));
  });
  return sink.take();
}

NormalisedText normalise_plain(std::string_view text, const TextBounds& bounds) {
  LineSink sink(bounds);
  sink.for_each_line(text, [&](const Tokens& tokens) { sink.emit(join(tokens)); });
  return sink.take();
}

NormalisedText normalise_resolv_conf(std::string_view text, const TextBounds& bounds) {
  LineSink sink(bounds);
  sink.for_each_line(text, [&](const Tokens& tokens) {
    if (tokens.front().front() == '#' || tokens.front().front() == ';') return;
    sink.emit(join(tokens));
  });
  return sink.take();
}

}  // namespace chaos::agent::leftovers
