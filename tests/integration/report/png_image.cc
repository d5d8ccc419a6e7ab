#include "tests/integration/report/png_image.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>

namespace chaos::testing {

namespace {

uint32_t be32(const std::string& bytes, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3]));
}

StatusOr<std::vector<uint8_t>> inflate_all(const std::string& data, size_t expected) {
  std::vector<uint8_t> out(expected);
  uLongf length = static_cast<uLongf>(expected);
  const int result = uncompress(out.data(), &length, reinterpret_cast<const Bytef*>(data.data()),
                                static_cast<uLong>(data.size()));
  if (result != Z_OK || length != expected) return invalid_argument("IDAT does not inflate to the image size");
  return out;
}

uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// Undoes the per-row filters in place (PNG spec section 9).
Status unfilter(std::vector<uint8_t>& raw, size_t stride, size_t bpp, uint32_t height) {
  for (uint32_t y = 0; y < height; ++y) {
    uint8_t* row = raw.data() + y * (stride + 1);
    const uint8_t* prior = y > 0 ? row - (stride + 1) + 1 : nullptr;
    const uint8_t filter = row[0];
    uint8_t* line = row + 1;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= bpp ? line[x - bpp] : 0;
      const int b = prior ? prior[x] : 0;
      const int c = prior && x >= bpp ? prior[x - bpp] : 0;
      switch (filter) {
        case 0: break;
        case 1: line[x] = static_cast<uint8_t>(line[x] + a); break;
        case 2: line[x] = static_cast<uint8_t>(line[x] + b); break;
        case 3: line[x] = static_cast<uint8_t>(line[x] + (a + b) / 2); break;
        case 4: line[x] = static_cast<uint8_t>(line[x] + paeth(a, b, c)); break;
        default: return invalid_argument("unknown PNG row filter " + std::to_string(filter));
      }
    }
  }
  return {};
}

}  // namespace

size_t PngImage::count(uint32_t rgb) const { return static_cast<size_t>(std::count(pixels.begin(), pixels.end(), rgb)); }

StatusOr<PngImage> decode_png(const std::string& bytes) {
  if (bytes.size() < 33 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return invalid_argument("not a PNG");
  PngImage image;
  std::string idat;
  uint8_t colour_type = 0;
  for (size_t at = 8; at + 12 <= bytes.size();) {
    const uint32_t length = be32(bytes, at);
    const std::string type = bytes.substr(at + 4, 4);
    if (at + 12 + length > bytes.size()) return invalid_argument("truncated chunk " + type);
    if (type == "IHDR") {
      image.width = be32(bytes, at + 8);
      image.height = be32(bytes, at + 12);
      if (bytes[at + 16] != 8) return invalid_argument("only 8-bit PNGs are supported");
      colour_type = static_cast<uint8_t>(bytes[at + 17]);
      if (bytes[at + 20] != 0) return invalid_argument("interlaced PNGs are not supported");
    } else if (type == "IDAT") {
      idat += bytes.substr(at + 8, length);
    }
    at += 12 + length;
  }
  if (colour_type != 2 && colour_type != 6) return invalid_argument("only RGB/RGBA PNGs are supported");
  const size_t bpp = colour_type == 6 ? 4 : 3;
  const size_t stride = image.width * bpp;
  CHAOS_ASSIGN_OR_RETURN(auto raw, inflate_all(idat, (stride + 1) * image.height));
  CHAOS_RETURN_IF_ERROR(unfilter(raw, stride, bpp, image.height));
  image.pixels.reserve(static_cast<size_t>(image.width) * image.height);
  for (uint32_t y = 0; y < image.height; ++y) {
    const uint8_t* line = raw.data() + y * (stride + 1) + 1;
    for (uint32_t x = 0; x < image.width; ++x) {
      const uint8_t* p = line + x * bpp;
      image.pixels.push_back(static_cast<uint32_t>(p[0]) << 16 | static_cast<uint32_t>(p[1]) << 8 | p[2]);
    }
  }
  return image;
}

}  // namespace chaos::testing
