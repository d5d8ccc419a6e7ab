// Just enough PNG decoding (zlib inflate + row filters, 8-bit RGB/RGBA) to
// check that a screenshot is a real picture: its size and how many
// distinct colours it has. Test-only; not a general PNG reader.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace chaos::testing {

struct PngImage {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint32_t> pixels;  // 0xRRGGBB, row-major

  size_t distinct_colours() const { return std::set<uint32_t>(pixels.begin(), pixels.end()).size(); }
  size_t count(uint32_t rgb) const;
};

StatusOr<PngImage> decode_png(const std::string& bytes);

}  // namespace chaos::testing
