#include "agent/faults/disk/mount_table.h"

#include <gtest/gtest.h>

namespace chaos::agent::disk {
namespace {

const char* const kMountinfo =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "30 22 0:25 / /run rw,nosuid shared:5 - tmpfs tmpfs rw\n"
    "31 30 7:3 / /run/lab/n1/jetstream rw,relatime shared:9 - ext4 /dev/loop3 rw\n"
    "32 22 0:40 / /mnt/with\\040space rw master:2 opt:x - tmpfs none rw\n"
    "garbage line\n"
    "33 22 x:y / /bad rw - ext4 /dev/x rw\n";

TEST(MountTableTest, ParsesWellFormedLinesAndDecodesEscapes) {
  const auto mounts = parse_mountinfo(kMountinfo);
  ASSERT_EQ(mounts.size(), 4u);
  EXPECT_EQ(mounts[2].mount_point, "/run/lab/n1/jetstream");
  EXPECT_EQ(mounts[2].major, 7u);
  EXPECT_EQ(mounts[2].minor, 3u);
  EXPECT_EQ(mounts[2].fs_type, "ext4");
  EXPECT_EQ(mounts[2].source, "/dev/loop3");
  EXPECT_EQ(mounts[3].mount_point, "/mnt/with space");
  EXPECT_EQ(mounts[3].fs_type, "tmpfs");
}

TEST(MountTableTest, PicksTheLongestMountPointOfTheSameDevice) {
  const auto mounts = parse_mountinfo(kMountinfo);
  EXPECT_EQ(mount_holding(mounts, "/run/lab/n1/jetstream/stream", 7, 3)->mount_point, "/run/lab/n1/jetstream");
  EXPECT_EQ(mount_holding(mounts, "/run/lab/n1", 0, 25)->mount_point, "/run");
  EXPECT_EQ(mount_holding(mounts, "/runx/a", 254, 0)->mount_point, "/");
  EXPECT_EQ(mount_holding(mounts, "/mnt/with space/f", 0, 40)->mount_point, "/mnt/with space");
}

TEST(MountTableTest, FallsBackToThePathWhenNoMountNamesTheDevice) {
  const auto mounts = parse_mountinfo(kMountinfo);
  EXPECT_EQ(mount_holding(mounts, "/run/x", 0, 99)->mount_point, "/run");
  EXPECT_EQ(mount_holding({}, "/x", 1, 1).status().code(), StatusCode::kNotFound);
}

TEST(MountTableTest, FindMountOfTheRootIsTheRoot) {
  auto mount = find_mount("/", system_mountinfo_reader());
  ASSERT_TRUE(mount.ok()) << mount.status().to_string();
  EXPECT_EQ(mount->mount_point, "/");
  EXPECT_EQ(find_mount("/no/such/path", system_mountinfo_reader()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace chaos::agent::disk
