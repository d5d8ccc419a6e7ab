#include "lab/probe/payload.h"

#include <gtest/gtest.h>

namespace chaos::lab::probe {
namespace {

TEST(PayloadTest, RoundTrips) {
  const Payload payload{"a1b2", 42, 123456789};
  const auto decoded = decode_payload(encode_payload(payload));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->run_id, "a1b2");
  EXPECT_EQ(decoded->sequence, 42u);
  EXPECT_EQ(decoded->published_ns, 123456789);
}

TEST(PayloadTest, RefusesMalformedBodies) {
  for (const char* body : {"", "run", "run 1", "run 1 2 3", " 1 2", "run x 2", "run 1 y", "run -1 2",
                           "run 1 2x", "run  1 2", "run 99999999999999999999999 1"}) {
    EXPECT_FALSE(decode_payload(body).has_value()) << "'" << body << "'";
  }
  EXPECT_FALSE(decode_payload(std::string(1000, 'r') + " 1 2").has_value());
  EXPECT_FALSE(decode_payload(std::string("run\0x 1 2", 9)).has_value());
}

}  // namespace
}  // namespace chaos::lab::probe
