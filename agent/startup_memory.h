// What the agent gives back once it has started: the pages of program and
// library code and constants that only start-up touched (gRPC's and
// OpenSSL's initialisation, protobuf descriptors, config parsing), and the
// heap start-up freed. Without this they stay counted in the agent's RSS for
// its whole life although an idle agent never reads them again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace chaos::agent {

struct AddressRange {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  bool operator==(const AddressRange&) const = default;
};

// The mappings of /proc/<pid>/smaps text whose resident pages can be
// dropped without changing what the process reads: private, never writable
// now, backed by a file, with no page of their own (Anonymous: 0 kB, i.e.
// nothing copied on write, such as relocated RELRO data) and something
// resident. Dropping such a page only unmaps it: it stays in the page cache
// and the next access maps it again.
std::vector<AddressRange> droppable_file_ranges(std::string_view smaps);

struct ReleasedMemory {
  std::size_t ranges = 0;
  std::size_t resident_kib_before = 0;  // VmRSS
  std::size_t resident_kib_after = 0;
};

// Called first thing in main(): re-executes this program once, same pid and
// arguments, with LD_BIND_NOW=1, so the dynamic linker binds every symbol of
// every library at start-up. Bound lazily, each function's first call looks
// it up in the symbol tables of all ~65 libraries, and every table page it
// reads stays resident (about 2 MiB once the agent has served a few calls);
// bound at start-up, those pages are released with the rest. In the
// re-executed process it takes LD_BIND_NOW back out of the environment, so
// the commands the agent runs do not inherit it. Returns without effect when
// the binding is eager already or the exec fails (then binding stays lazy).
void reexec_with_eager_binding(char** argv);

// Reads /proc/self/smaps, unmaps the droppable ranges (madvise
// MADV_DONTNEED) and returns free heap to the system (malloc_trim).
StatusOr<ReleasedMemory> release_startup_memory();

}  // namespace chaos::agent
