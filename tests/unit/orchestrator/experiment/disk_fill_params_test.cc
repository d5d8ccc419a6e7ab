#include "orchestrator/experiment/disk_fill_params.h"

#include <gtest/gtest.h>

#include "orchestrator/experiment/fault_spec_builder.h"

namespace chaos::orchestrator {
namespace {

ParamMap disk_fill_cli(const std::vector<std::string>& assignments) {
  ParamMap params;
  for (const auto& assignment : assignments) EXPECT_TRUE(add_cli_param(assignment, params).ok()) << assignment;
  return params;
}

TEST(DiskFillParams, BuildsPathAndExactlyOneLeave) {
  auto bytes = build_fault_spec("disk.fill", disk_fill_cli({"path=/run/lab/n1/jetstream", "leave_bytes=1MiB"}), "t");
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(bytes->disk_fill().path(), "/run/lab/n1/jetstream");
  EXPECT_EQ(bytes->disk_fill().leave_bytes(), 1u << 20);
  auto percent = build_fault_spec("disk.fill", disk_fill_cli({"path=/data", "leave_percent=5"}), "t");
  ASSERT_TRUE(percent.ok()) << percent.status().message();
  EXPECT_EQ(percent->disk_fill().leave_case(), v1::DiskFill::kLeavePercent);
  EXPECT_DOUBLE_EQ(percent->disk_fill().leave_percent(), 5);

  EXPECT_EQ(build_fault_spec("disk.fill", disk_fill_cli({"leave_bytes=1"}), "t").status().message(),
            "t: disk.fill needs param 'path'");
  EXPECT_EQ(build_fault_spec("disk.fill", disk_fill_cli({"path=/data"}), "t").status().message(),
            "t: disk.fill param 'leave_bytes': exactly one of leave_bytes or leave_percent is required");
  EXPECT_EQ(
      build_fault_spec("disk.fill", disk_fill_cli({"path=/data", "leave_bytes=1", "leave_percent=1"}), "t")
          .status()
          .message(),
      "--param leave_percent: disk.fill param 'leave_percent': exactly one of leave_bytes or leave_percent is "
      "required");
  EXPECT_EQ(build_fault_spec("disk.fill", disk_fill_cli({"path=data", "leave_bytes=1"}), "t").status().message(),
            "--param path: disk.fill param 'path': must be an absolute path, not 'data'");
  EXPECT_EQ(build_fault_spec("disk.fill", disk_fill_cli({"path=/d", "leave_percent=100"}), "t").status().message(),
            "--param leave_percent: disk.fill param 'leave_percent': must be below 100");
  EXPECT_EQ(build_fault_spec("disk.fill", disk_fill_cli({"path=/d", "leave_bytes=ten"}), "t").status().message(),
            "--param leave_bytes: disk.fill param 'leave_bytes': 'ten' is not a size such as 1048576, \"512KiB\", "
            "\"10MiB\" or \"1.5GB\"");
}

}  // namespace
}  // namespace chaos::orchestrator
