// The one size grammar of experiment parameters (disk.fill's leave_bytes,
// stress.memory's size).
#include "orchestrator/experiment/byte_size.h"

#include <gtest/gtest.h>

namespace chaos::orchestrator {
namespace {

TEST(ByteSize, TakesDecimalAndBinaryUnits) {
  EXPECT_EQ(*parse_byte_size("1048576", 1ULL << 60), 1048576u);
  EXPECT_EQ(*parse_byte_size("10MiB", 1ULL << 60), 10u << 20);
  EXPECT_EQ(*parse_byte_size("10 mib", 1ULL << 60), 10u << 20);
  EXPECT_EQ(*parse_byte_size("1.5GB", 1ULL << 60), 1'500'000'000u);
  EXPECT_EQ(*parse_byte_size("0", 1ULL << 60), 0u);
  EXPECT_EQ(*parse_byte_size("512B", 1ULL << 60), 512u);
  EXPECT_EQ(parse_byte_size("10XB", 1ULL << 60).status().message(),
            "'10XB': unknown unit 'XB' (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
  EXPECT_FALSE(parse_byte_size("-1", 1ULL << 60).ok());
  EXPECT_FALSE(parse_byte_size("MiB", 1ULL << 60).ok());
  EXPECT_FALSE(parse_byte_size("1.5B", 1ULL << 60).ok());
  EXPECT_EQ(parse_byte_size("2KiB", 1024).status().message(), "'2KiB' is more than 1024 bytes");
}

TEST(ByteSize, DecimalFractionsAreExactAndFractionsOfAByteAreRoundedDownOrRefused) {
  EXPECT_EQ(*parse_byte_size("1.1KB", 1ULL << 60), 1100u);
  EXPECT_EQ(*parse_byte_size("0.3MB", 1ULL << 60), 300'000u);
  EXPECT_EQ(*parse_byte_size("1.15GB", 1ULL << 60), 1'150'000'000u);
  EXPECT_EQ(*parse_byte_size("0.1GiB", 1ULL << 60), 107'374'182u);  // 107374182.4, rounded down
  EXPECT_EQ(*parse_byte_size(".5KiB", 1ULL << 60), 512u);
  EXPECT_EQ(*parse_byte_size("3.", 1ULL << 60), 3u);
  EXPECT_EQ(parse_byte_size("1.5", 1ULL << 60).status().message(), "'1.5' is not a whole number of bytes");
  EXPECT_FALSE(parse_byte_size(".", 1ULL << 60).ok());
  EXPECT_FALSE(parse_byte_size("1.2.3MB", 1ULL << 60).ok());
  EXPECT_FALSE(parse_byte_size("1e6", 1ULL << 60).ok());
  EXPECT_EQ(parse_byte_size("999999999999999999TiB", 1ULL << 60).status().message(),
            "'999999999999999999TiB' is more than 1152921504606846976 bytes");
  EXPECT_FALSE(parse_byte_size("9999999999999999999", 1ULL << 60).ok());  // 19 digits
  // 36 digits (2^88) times 2^40 is 2^128: it must not wrap to 0 bytes.
  EXPECT_EQ(parse_byte_size("309485009821345068.724781056TiB", 1ULL << 60).status().message(),
            "'309485009821345068.724781056TiB' is more than 1152921504606846976 bytes");
  EXPECT_FALSE(parse_byte_size("999999999999999999.999999999999999999TiB", 1ULL << 60).ok());
}

TEST(ByteSize, BinaryOnlyRefusesDecimalUnitsNamingThem) {
  EXPECT_EQ(*parse_byte_size("256MiB", 1ULL << 40, ByteUnits::kBinaryOnly), 256u << 20);
  EXPECT_EQ(*parse_byte_size("1.5GiB", 1ULL << 40, ByteUnits::kBinaryOnly), 3ULL << 29);
  EXPECT_EQ(*parse_byte_size("4096", 1ULL << 40, ByteUnits::kBinaryOnly), 4096u);
  EXPECT_EQ(parse_byte_size("1gb", 1ULL << 40, ByteUnits::kBinaryOnly).status().message(),
            "'1gb': gb is not taken here (it is read as powers of 1000 elsewhere): use KiB, MiB, GiB, TiB or a "
            "number of bytes");
  EXPECT_EQ(parse_byte_size("10XB", 1ULL << 40, ByteUnits::kBinaryOnly).status().message(),
            "'10XB': unknown unit 'XB' (B, KiB, MiB, GiB, TiB)");
  EXPECT_EQ(parse_byte_size("", 1ULL << 40, ByteUnits::kBinaryOnly).status().message(),
            "'' is not a size such as 1048576, \"512KiB\", \"256MiB\" or \"1.5GiB\"");
}

}  // namespace
}  // namespace chaos::orchestrator
