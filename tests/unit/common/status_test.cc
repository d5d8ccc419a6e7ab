#include "common/status.h"

#include <gtest/gtest.h>

namespace chaos {
namespace {

StatusOr<int> half(int value) {
  if (value % 2 != 0) return invalid_argument("value: " + std::to_string(value) + " is odd");
  return value / 2;
}

StatusOr<int> quarter(int value) {
  CHAOS_ASSIGN_OR_RETURN(int halved, half(value));
  CHAOS_ASSIGN_OR_RETURN(int quartered, half(halved));
  return quartered;
}

Status check_positive(int value) {
  if (value <= 0) return invalid_argument("must be positive");
  return {};
}

Status check_all(int a, int b) {
  CHAOS_RETURN_IF_ERROR(check_positive(a).with_context("a"));
  CHAOS_RETURN_IF_ERROR(check_positive(b).with_context("b"));
  return {};
}

TEST(Status, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.to_string(), "OK");
}

TEST(Status, ToStringNamesTheCode) {
  EXPECT_EQ(permission_denied("max_delay exceeded").to_string(), "PERMISSION_DENIED: max_delay exceeded");
}

TEST(Status, ContextIsPrepended) {
  EXPECT_EQ(check_all(1, -1).message(), "b: must be positive");
  EXPECT_TRUE(check_all(1, 1).ok());
}

TEST(StatusOr, PropagatesTheFirstError) {
  EXPECT_EQ(quarter(8).value(), 2);
  auto odd = quarter(6);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(odd.status().message(), "value: 3 is odd");
}

}  // namespace
}  // namespace chaos
