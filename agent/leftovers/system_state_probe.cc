#include "agent/leftovers/system_state_probe.h"

#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <functional>
#include <optional>

namespace chaos::agent::leftovers {

namespace {

constexpr std::size_t kMaxInterfaceName = 15;
// Enough of a tool's stderr to say why it failed.
constexpr std::size_t kMaxErrorBytes = 200;

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() > kMaxErrorBytes) line.resize(kMaxErrorBytes);
  return line;
}

// Reads at most `max_bytes`; `truncated` when the file had more. The file is
// opened without following a FIFO's writer (O_NONBLOCK) so a planted FIFO
// cannot hang the probe.
StatusOr<std::string> read_bounded_file(const std::string& path, std::size_t max_bytes, bool& truncated) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return not_found(path + ": " + std::strerror(errno));
  std::string text;
  char buffer[4096];
  truncated = false;
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return internal_error(path + ": read: " + std::strerror(error));
    }
    if (n == 0) break;
    const std::size_t room = max_bytes - text.size();
    text.append(buffer, std::min(room, static_cast<std::size_t>(n)));
    if (static_cast<std::size_t>(n) > room) {
      truncated = true;
      break;
    }
  }
  ::close(fd);
  return text;
}

std::string sysctl_path(const std::string& root, const std::string& name) {
  std::string path = root + "/";
  for (char c : name) path += c == '.' ? '/' : c;
  return path;
}

bool valid_sysctl_name(const std::string& name) {
  return !name.empty() && name.size() <= 128 && name.find('/') == std::string::npos &&
         name.find("..") == std::string::npos && name.front() != '.';
}

}  // namespace

std::vector<std::string> default_sysctls() {
  return {"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.core.default_qdisc"};
}

std::vector<std::string> link_names(const std::string& ip_o_link_output, std::size_t max_links, bool& truncated) {
  std::vector<std::string> names;
  truncated = false;
  std::size_t start = 0;
  while (start < ip_o_link_output.size()) {
    std::size_t end = ip_o_link_output.find('\n', start);
    if (end == std::string::npos) end = ip_o_link_output.size();
    const std::string_view line(ip_o_link_output.data() + start, end - start);
    start = end + 1;
    const auto first = line.find(": ");
    if (first == std::string_view::npos) continue;
    const auto colon = line.find(':', first + 2);
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(first + 2, colon - first - 2);
    name = name.substr(0, name.find('@'));
    if (name.empty() || name.size() > kMaxInterfaceName) continue;
    if (names.size() >= max_links) {
      truncated = true;
      break;
    }
    names.emplace_back(name);
  }
  return names;
}

CommandStateProbe::CommandStateProbe(CommandRunner& commands, ProbeOptions options)
    : commands_(commands), options_(std::move(options)) {}

SystemSnapshot CommandStateProbe::take() {
  SystemSnapshot snapshot;
  RunOptions run_options;
  run_options.timeout = options_.command_timeout;

  const auto fail = [&](const std::string& source, const std::string& why) {
    snapshot.errors.push_back(source + ": " + why);
    snapshot.unreadable.insert(source);
  };
  const auto keep = [&](const std::string& source, NormalisedText text) {
    if (text.truncated) {
      snapshot.errors.push_back(source + ": truncated (at most " + std::to_string(options_.bounds.max_lines) +
                                " lines of " + std::to_string(options_.bounds.max_line_bytes) + " bytes)");
    }
    snapshot.sources[source] = std::move(text.lines);
  };
  // The tool's output, or nullopt after recording why there is none.
  const auto run = [&](const std::string& source, const std::vector<std::string>& argv) -> std::optional<std::string> {
    auto result = commands_.run(argv, run_options);
    if (!result.ok()) {
      fail(source, result.status().message());
      return std::nullopt;
    }
    if (result->exit_code != 0) {
      fail(source, describe_argv(argv) + " exited " + std::to_string(result->exit_code) + ": " +
                       first_line(result->stderr_text));
      return std::nullopt;
    }
    return std::move(result->stdout_text);
  };
  using Normaliser = std::function<NormalisedText(std::string_view, const TextBounds&)>;
  const auto capture = [&](const std::string& source, const std::vector<std::string>& argv,
                           const Normaliser& normalise) {
    if (auto text = run(source, argv)) keep(source, normalise(*text, options_.bounds));
  };

  capture("nft list ruleset", {"nft", "list", "ruleset"}, normalise_nft_ruleset);
  capture("iptables-save", {"iptables-save"}, normalise_iptables_save);
  capture("ip6tables-save", {"ip6tables-save"}, normalise_iptables_save);
  capture("ip rule", {"ip", "rule", "show"}, normalise_plain);
  capture("ip -6 rule", {"ip", "-6", "rule", "show"}, normalise_plain);

  if (auto links = run("links", {"ip", "-o", "link", "show"})) {
    bool truncated = false;
    for (const auto& link : link_names(*links, options_.max_links, truncated)) {
      for (const char* object : {"qdisc", "class", "filter"}) {
        capture(std::string("tc ") + object + " dev " + link, {"tc", object, "show", "dev", link}, normalise_tc);
      }
    }
    if (truncated) {
      snapshot.errors.push_back("links: truncated (tc state of the first " + std::to_string(options_.max_links) +
                                " links only)");
    }
  }

  const auto read_file = [&](const std::string& source, const std::string& path, const Normaliser& normalise) {
    bool truncated = false;
    auto text = read_bounded_file(path, options_.max_file_bytes, truncated);
    if (!text.ok()) return fail(source, text.status().message());
    NormalisedText lines = normalise(*text, options_.bounds);
    lines.truncated = lines.truncated || truncated;
    keep(source, std::move(lines));
  };
  read_file(options_.resolv_conf_path, options_.resolv_conf_path, normalise_resolv_conf);
  for (const auto& name : options_.sysctls) {
    const std::string source = "sysctl " + name;
    if (!valid_sysctl_name(name)) {
      fail(source, "not a sysctl name");
      continue;
    }
    // A sysctl this kernel does not have in this network namespace
    // (net.core.default_qdisc inside one) cannot change here: nothing to
    // watch, and nothing worth an error in every report.
    const std::string path = sysctl_path(options_.proc_sys_root, name);
    std::error_code ignored;
    if (!std::filesystem::exists(path, ignored)) continue;
    read_file(source, path, normalise_plain);
  }
  return snapshot;
}

}  // namespace chaos::agent::leftovers
