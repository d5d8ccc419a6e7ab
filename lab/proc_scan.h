// Finding the lab's processes again through /proc: pidfiles can be stale
// (pid reused) or missing (crash before they were written), so a pid only
// counts as the lab's when its command line says so.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace chaos::lab {

// argv of a live process, empty if it is gone or a kernel thread.
std::vector<std::string> process_cmdline(int pid);
bool process_alive(int pid);
std::optional<int> read_pidfile(const std::string& path);

// Pids (other than our own) whose argv[0] ends in `/program` or equals
// `program` and whose argv contains `marker` as a whole argument or inside
// one (e.g. a config path passed as --config.file=PATH).
std::vector<int> find_processes(const std::string& program, const std::string& marker);

// The predicate behind find_processes, exposed for tests.
bool cmdline_matches(const std::vector<std::string>& argv, const std::string& program, const std::string& marker);

}  // namespace chaos::lab
