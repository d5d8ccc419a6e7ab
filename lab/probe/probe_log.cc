#include "lab/probe/probe_log.h"

#include <unistd.h>

#include <chrono>
#include <string>

#include "common/rfc3339.h"

namespace chaos::lab::probe {

void probe_log(std::string_view message) {
  std::string line = format_rfc3339(std::chrono::system_clock::now());
  line += " chaos-probe: ";
  line += message;
  line += '\n';
  // One write(2) per line: stderr is shared by the publisher and consumer threads.
  for (std::size_t written = 0; written < line.size();) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += static_cast<std::size_t>(n);
  }
}

}  // namespace chaos::lab::probe
