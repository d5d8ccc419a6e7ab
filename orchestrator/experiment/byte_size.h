// Sizes in experiment parameters ("10MiB", "1.5GB", "1048576"): one
// grammar for every parameter that takes a number of bytes.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace chaos::orchestrator {

enum class ByteUnits {
  kDecimalAndBinary,  // B, KB..TB (powers of 1000) and KiB..TiB (powers of 1024)
  kBinaryOnly,        // B and KiB..TiB: where "MB" is too easily meant as MiB
};

// A byte count: digits, optionally a fraction, optionally a unit (case-
// insensitive, a space allowed before it). INVALID_ARGUMENT saying why,
// without the parameter's name (the caller adds it). At most `max`; the
// result is a whole number of bytes.
StatusOr<std::uint64_t> parse_byte_size(const std::string& text, std::uint64_t max,
                                        ByteUnits units = ByteUnits::kDecimalAndBinary);

}  // namespace chaos::orchestrator
