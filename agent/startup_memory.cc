#include "agent/startup_memory.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "common/proc_reader.h"

namespace chaos::agent {
namespace {

// smaps of a process with a few hundred mappings is ~100 KiB; anything far
// beyond is not ours to parse in full.
constexpr std::size_t kMaxSmapsBytes = 16 * 1024 * 1024;

struct Mapping {
  AddressRange range;
  bool eligible = false;  // from the header line: private, not writable, a file
  std::optional<std::size_t> rss_kib;
  std::optional<std::size_t> anonymous_kib;
};

std::string_view next_token(std::string_view& rest) {
  const auto begin = rest.find_first_not_of(" \t");
  if (begin == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(begin);
  const auto end = rest.find_first_of(" \t");
  const std::string_view token = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return token;
}

std::optional<std::uintptr_t> parse_number(std::string_view text, int base) {
  std::uintptr_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// "7f01-7f09 r-xp 00000000 08:01 1234   /usr/lib/libx.so" (the path may hold spaces).
std::optional<Mapping> parse_header(std::string_view line) {
  std::string_view rest = line;
  const std::string_view addresses = next_token(rest);
  const std::string_view permissions = next_token(rest);
  for (int field = 0; field < 3; ++field) next_token(rest);  // offset, device, inode
  const auto dash = addresses.find('-');
  if (dash == std::string_view::npos || permissions.size() != 4) return std::nullopt;
  const auto start = parse_number(addresses.substr(0, dash), 16);
  const auto end = parse_number(addresses.substr(dash + 1), 16);
  if (!start || !end || *end <= *start) return std::nullopt;
  const auto path_begin = rest.find_first_not_of(" \t");
  const std::string_view path = path_begin == std::string_view::npos ? std::string_view{} : rest.substr(path_begin);
  Mapping mapping;
  mapping.range = {*start, *end};
  mapping.eligible = permissions[1] == '-' && permissions[3] == 'p' && !path.empty() && path.front() == '/';
  return mapping;
}

// "Rss:                 132 kB"
std::optional<std::size_t> field_kib(std::string_view line, std::string_view key) {
  if (line.substr(0, key.size()) != key) return std::nullopt;
  std::string_view rest = line.substr(key.size());
  const auto value = parse_number(next_token(rest), 10);
  if (!value || next_token(rest) != "kB") return std::nullopt;
  return static_cast<std::size_t>(*value);
}

void keep_if_droppable(const std::optional<Mapping>& mapping, std::vector<AddressRange>& out) {
  // Both fields must have been read: a mapping whose Anonymous count is
  // unknown may hold copied pages, and dropping those would lose data.
  if (mapping && mapping->eligible && mapping->rss_kib.value_or(0) > 0 && mapping->anonymous_kib == 0) {
    out.push_back(mapping->range);
  }
}

std::size_t resident_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (auto kib = field_kib(line, "VmRSS:")) return *kib;
  }
  return 0;
}

}  // namespace

void reexec_with_eager_binding(char** argv) {
  constexpr const char* kMarker = "CHAOS_AGENT_EAGER_BINDING";
  if (const char* marker = std::getenv(kMarker)) {
    const bool ours = std::strcmp(marker, "1") == 0;
    unsetenv(kMarker);
    if (ours) unsetenv("LD_BIND_NOW");
    return;
  }
  if (std::getenv("LD_BIND_NOW") != nullptr) return;  // eager from the start
  // The real path, not /proc/self/exe: the new image takes its name (comm)
  // from the path, and tools and tests find the agent as chaos-agent.
  char path[4096];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return;
  path[length] = '\0';
  setenv(kMarker, "1", 1);
  setenv("LD_BIND_NOW", "1", 1);
  execv(path, argv);
  unsetenv(kMarker);  // exec failed (binary replaced on disk?): run as it is
  unsetenv("LD_BIND_NOW");
}

std::vector<AddressRange> droppable_file_ranges(std::string_view smaps) {
  std::vector<AddressRange> result;
  std::optional<Mapping> current;
  while (!smaps.empty()) {
    const auto newline = smaps.find('\n');
    const std::string_view line = smaps.substr(0, newline);
    smaps.remove_prefix(newline == std::string_view::npos ? smaps.size() : newline + 1);
    std::string_view rest = line;
    const std::string_view first = next_token(rest);
    if (first.empty()) continue;
    if (first.back() != ':') {  // a mapping's header line starts the next record
      keep_if_droppable(current, result);
      current = parse_header(line);
      continue;
    }
    if (!current) continue;
    if (auto kib = field_kib(line, "Rss:")) current->rss_kib = kib;
    if (auto kib = field_kib(line, "Anonymous:")) current->anonymous_kib = kib;
  }
  keep_if_droppable(current, result);
  return result;
}

StatusOr<ReleasedMemory> release_startup_memory() {
  ReleasedMemory released;
  released.resident_kib_before = resident_kib();
  // read_bounded reads in small steps, not into one big buffer: touching
  // megabytes here would raise the very peak this is about.
  const auto smaps = read_bounded("/proc/self/smaps", kMaxSmapsBytes + 1);
  if (!smaps) return unavailable("release_startup_memory: cannot open /proc/self/smaps");
  if (smaps->size() > kMaxSmapsBytes) {
    // A cut record could hide an Anonymous line: drop nothing rather than guess.
    return resource_exhausted("release_startup_memory: /proc/self/smaps is over 16 MiB");
  }
  for (const AddressRange& range : droppable_file_ranges(*smaps)) {
    if (madvise(reinterpret_cast<void*>(range.start), range.end - range.start, MADV_DONTNEED) != 0) {
      std::ostringstream where;
      where << std::hex << range.start << "-" << range.end;
      return internal_error("release_startup_memory: madvise(MADV_DONTNEED) of " + where.str() + ": " +
                            std::strerror(errno));
    }
    ++released.ranges;
  }
  malloc_trim(0);
  released.resident_kib_after = resident_kib();
  return released;
}

}  // namespace chaos::agent
