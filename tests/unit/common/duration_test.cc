#include "common/duration.h"

#include <gtest/gtest.h>

namespace chaos {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(ParseDuration, ReadsEveryUnit) {
  EXPECT_EQ(parse_duration("250ms").value(), milliseconds(250));
  EXPECT_EQ(parse_duration("20s").value(), seconds(20));
  EXPECT_EQ(parse_duration("2m").value(), seconds(120));
  EXPECT_EQ(parse_duration("1h").value(), seconds(3600));
  EXPECT_EQ(parse_duration("500us").value(), nanoseconds(500'000));
  EXPECT_EQ(parse_duration("7ns").value(), nanoseconds(7));
  EXPECT_EQ(parse_duration("1d").value(), seconds(86400));
}

TEST(ParseDuration, ReadsFractionsAndCompounds) {
  EXPECT_EQ(parse_duration("1.5s").value(), milliseconds(1500));
  EXPECT_EQ(parse_duration("1m30s").value(), seconds(90));
  EXPECT_EQ(parse_duration("1h2m3s").value(), seconds(3723));
  EXPECT_EQ(parse_duration("0").value(), nanoseconds(0));
}

TEST(ParseDuration, RefusesUnitlessNegativeAndGarbage) {
  for (const char* bad : {"", "20", "-5s", "s", "5x", "1..5s", "5 s", "ms", "1.2.3s", "10sec"}) {
    auto parsed = parse_duration(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(ParseDuration, ErrorQuotesTheInput) {
  auto parsed = parse_duration("20");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("'20'"), std::string::npos) << parsed.status().message();
}

TEST(ParseDuration, RefusesOverflow) { EXPECT_FALSE(parse_duration("999999999999h").ok()); }

// Thousands of digits would make std::stold throw (overflow, or underflow
// for a long fraction): an error value naming the limit, with the input cut.
TEST(ParseDuration, RefusesHugeNumbersWithoutThrowing) {
  for (const std::string& text : {"1" + std::string(5000, '0') + "s", "0." + std::string(5000, '0') + "1s"}) {
    const auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.status().message().find("a number of more than 40 characters"), std::string::npos)
        << parsed.status().message();
    EXPECT_LT(parsed.status().message().size(), 200u) << "the input is cut, not echoed whole";
  }
  EXPECT_TRUE(parse_duration("0.000000001s").ok());
}

TEST(FormatDuration, PicksTheShortestReadableForm) {
  EXPECT_EQ(format_duration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(format_duration(seconds(120)), "2m");
  EXPECT_EQ(format_duration(seconds(90)), "1m30s");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(nanoseconds(0)), "0s");
  EXPECT_EQ(format_duration(nanoseconds(1500)), "1.5us");
  EXPECT_EQ(format_duration(seconds(3723)), "1h2m3s");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (auto value : {milliseconds(1), milliseconds(1500), milliseconds(90'000), milliseconds(3'600'001)}) {
    EXPECT_EQ(parse_duration(format_duration(value)).value(), value) << format_duration(value);
  }
}

}  // namespace
}  // namespace chaos
