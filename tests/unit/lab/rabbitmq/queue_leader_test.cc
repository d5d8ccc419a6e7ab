#include "lab/rabbitmq/queue_leader.h"

#include <gtest/gtest.h>

namespace chaos::lab {
namespace {

TEST(QueueLeaderTest, QuorumQueueLeaderIsTheLabNode) {
  const std::string queue = R"({"name":"chaos-probe","type":"quorum","leader":"rabbit@n2.lab",
      "members":["rabbit@n1.lab","rabbit@n2.lab","rabbit@n3.lab"],"online":["rabbit@n2.lab"]})";
  EXPECT_EQ(queue_leader_from_api(queue), "n2");
}

TEST(QueueLeaderTest, MembersAreTheReplicaNodes) {
  EXPECT_EQ(queue_members_from_api(R"({"leader":"rabbit@n1.lab","members":["rabbit@n1.lab",7,"rabbit@n3.lab"]})"),
            (std::vector<std::string>{"rabbit@n1.lab", "rabbit@n3.lab"}));
  for (const char* text : {"", "[]", "{}", R"({"members":"rabbit@n1.lab"})", R"({"members":{}})"}) {
    EXPECT_TRUE(queue_members_from_api(text).empty()) << text;
  }
}

TEST(QueueLeaderTest, MembersNamedTwiceCountEveryOccurrence) {
  // As RabbitMQ answered in CI right after `lab up`: the queue's record
  // lists three members, a second `members` (a metrics view) only one.
  const std::string queue = R"({"leader":"rabbit@n3.lab","members":["rabbit@n2.lab","rabbit@n1.lab","rabbit@n3.lab"],
      "online":["rabbit@n2.lab","rabbit@n1.lab","rabbit@n3.lab"],"node":"rabbit@n3.lab",
      "members":["rabbit@n3.lab"],"online":["rabbit@n3.lab"],"nested":{"members":["rabbit@n9.lab"]}})";
  EXPECT_EQ(queue_members_from_api(queue),
            (std::vector<std::string>{"rabbit@n2.lab", "rabbit@n1.lab", "rabbit@n3.lab"}));
  EXPECT_EQ(queue_members_from_api(R"({"members":["rabbit@n1.lab"],"members":["rabbit@n2.lab"]})"),
            (std::vector<std::string>{"rabbit@n1.lab", "rabbit@n2.lab"}));
  EXPECT_EQ(queue_members_from_api(R"({"members":[["rabbit@n1.lab"]],"other":["rabbit@n2.lab"]})"),
            std::vector<std::string>{});
  EXPECT_TRUE(queue_members_from_api(R"({"members":["rabbit@n1.lab"],"members":)").empty());
}

TEST(QueueLeaderTest, ALeaderlessQuorumQueueHasNoLeaderEvenWithANode) {
  // `node` names where the queue was declared, possibly a node that is down:
  // naming it would point "kill the queue leader" at the wrong node.
  EXPECT_EQ(queue_leader_from_api(R"({"name":"q","type":"quorum","node":"rabbit@n3.lab"})"), std::nullopt);
  EXPECT_EQ(queue_leader_from_api(R"({"leader":"","node":"rabbit@n1.lab"})"), std::nullopt);
}

TEST(QueueLeaderTest, HostileOrLeaderlessInputGivesNothing) {
  for (const char* text : {"", "null", "[]", "{", "{}", R"({"leader":7})", R"({"leader":"rabbit@"})",
                           R"({"leader":"n2.lab"})", R"({"leader":"@n2"})", R"({"leader":null,"node":[1]})",
                           R"({"error":"Object Not Found","reason":"Not Found"})"}) {
    EXPECT_EQ(queue_leader_from_api(text), std::nullopt) << text;
  }
  EXPECT_EQ(queue_leader_from_api(std::string(100000, '[')), std::nullopt);
}

TEST(QueueLeaderTest, RunningNodesSkipsStoppedAndMalformedEntries) {
  const std::string nodes = R"([{"name":"rabbit@n1.lab","running":true},{"name":"rabbit@n2.lab","running":false},
      {"name":"rabbit@n3.lab","running":true},{"name":5,"running":true},{"running":true},"x",
      {"name":"rabbit@n4.lab","running":"yes"}])";
  EXPECT_EQ(running_nodes_from_api(nodes), (std::vector<std::string>{"rabbit@n1.lab", "rabbit@n3.lab"}));
  EXPECT_TRUE(running_nodes_from_api("{}").empty());
  EXPECT_TRUE(running_nodes_from_api("not json").empty());
}

}  // namespace
}  // namespace chaos::lab
