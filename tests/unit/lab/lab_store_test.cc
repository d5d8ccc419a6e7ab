#include "lab/lab_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/fake_command_runner.h"
#include "tests/support/temp_dir.h"

namespace chaos::lab {
namespace {

LabLayout store_test_layout(const std::string& name) {
  LabParams params;
  params.nodes = 1;
  params.state_dir = test_support::process_scratch_dir() + "/" + name;
  std::filesystem::remove_all(params.state_dir);
  auto layout = *LabLayout::create(params);
  std::filesystem::create_directories(lab_store_dir(layout, 1));
  return layout;
}

TEST(LabStoreTest, ParsesLoopDevicesOfLosetupJ) {
  const std::string output =
      "/dev/loop3: [2049]:1234 (/run/chaos-lab/n1/jetstream.img)\n"
      "/dev/loop12: [2049]:1234 (/run/chaos-lab/n1/jetstream.img)\n"
      "losetup: something odd\n";
  EXPECT_EQ(loop_devices_in(output), (std::vector<std::string>{"/dev/loop3", "/dev/loop12"}));
  EXPECT_TRUE(loop_devices_in("").empty());
}

TEST(LabStoreTest, CreateAttachesFormatsAndMountsASparseImage) {
  const auto layout = store_test_layout("store-create");
  testing::FakeCommandRunner runner;
  runner.on("--find --show", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "/dev/loop7\n", ""};
  });
  ASSERT_TRUE(LabStore(layout, runner).create(1).ok());
  const std::string image = lab_store_image(layout, 1);
  EXPECT_EQ(std::filesystem::file_size(image), kLabStoreBytes);
  EXPECT_EQ(runner.call_lines(),
            (std::vector<std::string>{"losetup --find --show " + image, "mkfs.ext4 -q -m 0 /dev/loop7",
                                      "mount -t ext4 /dev/loop7 " + lab_store_dir(layout, 1)}));
}

TEST(LabStoreTest, CreateStopsWhenLosetupPrintsNoDevice) {
  const auto layout = store_test_layout("store-nodevice");
  testing::FakeCommandRunner runner;
  const Status status = LabStore(layout, runner).create(1);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(runner.calls().size(), 1u);
}

TEST(LabStoreTest, DestroyDetachesEveryLoopDeviceOfTheImage) {
  const auto layout = store_test_layout("store-destroy");
  { std::ofstream(lab_store_image(layout, 1)) << ""; }
  testing::FakeCommandRunner runner;
  runner.on("losetup -j", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "/dev/loop3: [2049]:1 (x)\n/dev/loop4: [2049]:1 (x)\n", ""};
  });
  ASSERT_TRUE(LabStore(layout, runner).destroy().ok());
  // Not mounted here (a temp dir): no umount, only the detaches.
  EXPECT_EQ(runner.call_lines(), (std::vector<std::string>{"losetup -j " + lab_store_image(layout, 1),
                                                           "losetup -d /dev/loop3", "losetup -d /dev/loop4"}));
}

TEST(LabStoreTest, DestroyWithoutImageDoesNothing) {
  const auto layout = store_test_layout("store-none");
  testing::FakeCommandRunner runner;
  EXPECT_TRUE(LabStore(layout, runner).destroy().ok());
  EXPECT_TRUE(runner.calls().empty());
}

TEST(LabStoreTest, StreamLeaderStoreLinkFollowsTheLeader) {
  LabParams params;
  params.nodes = 3;
  params.state_dir = test_support::process_scratch_dir() + "/store-leader";
  std::filesystem::remove_all(params.state_dir);
  std::filesystem::create_directories(params.state_dir);
  const auto layout = *LabLayout::create(params);
  const std::string link = lab_stream_leader_store(layout);
  ASSERT_TRUE(link_stream_leader_store(layout, "n2"));
  EXPECT_EQ(std::filesystem::read_symlink(link).string(), lab_store_dir(layout, 2));
  ASSERT_TRUE(link_stream_leader_store(layout, "n3"));
  EXPECT_EQ(std::filesystem::read_symlink(link).string(), lab_store_dir(layout, 3));
  EXPECT_FALSE(link_stream_leader_store(layout, "../n1"));
  EXPECT_EQ(std::filesystem::read_symlink(link).string(), lab_store_dir(layout, 3));
}

}  // namespace
}  // namespace chaos::lab
