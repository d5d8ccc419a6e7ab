#include "lab/probe/rabbitmq/amqp_url.h"

#include <gtest/gtest.h>

namespace chaos::lab::probe {
namespace {

std::string amqp_url_error(std::string_view url) {
  auto parsed = parse_amqp_url(url);
  return parsed.ok() ? "accepted" : parsed.status().message();
}

TEST(AmqpUrlTest, FullUrl) {
  auto server = parse_amqp_url("amqp://chaos:s3cret@10.77.0.11:5673/lab");
  ASSERT_TRUE(server.ok()) << server.status().message();
  EXPECT_EQ(server->user, "chaos");
  EXPECT_EQ(server->password, "s3cret");
  EXPECT_EQ(server->host, "10.77.0.11");
  EXPECT_EQ(server->port, 5673);
  EXPECT_EQ(server->vhost, "lab");
  EXPECT_EQ(amqp_host_port(*server), "10.77.0.11:5673");
}

TEST(AmqpUrlTest, PortAndVhostDefault) {
  auto server = parse_amqp_url("amqp://u:p@broker");
  ASSERT_TRUE(server.ok()) << server.status().message();
  EXPECT_EQ(server->host, "broker");
  EXPECT_EQ(server->port, kAmqpDefaultPort);
  EXPECT_EQ(server->vhost, "/");
  auto slash = parse_amqp_url("amqp://u:p@broker:5672/");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->vhost, "/");
}

TEST(AmqpUrlTest, PercentEncodingAndIpv6) {
  auto server = parse_amqp_url("amqp://us%40er:p%3Ass@[::1]:5672/%2F");
  ASSERT_TRUE(server.ok()) << server.status().message();
  EXPECT_EQ(server->user, "us@er");
  EXPECT_EQ(server->password, "p:ss");
  EXPECT_EQ(server->host, "::1");
  EXPECT_EQ(server->vhost, "/");
  EXPECT_EQ(amqp_host_port(*server), "[::1]:5672");
  EXPECT_EQ(amqp_url_error("amqp://u:p%4@h"), "bad percent-encoding in the password");
  EXPECT_EQ(amqp_url_error("amqp://u:p@h/%zz"), "bad percent-encoding in the vhost");
}

TEST(AmqpUrlTest, MaskedUrlsHideOnlyThePassword) {
  EXPECT_EQ(amqp_url_masked("amqp://chaos:s3cret@10.0.0.1:5672/%2F"), "amqp://chaos:***@10.0.0.1:5672/%2F");
  EXPECT_EQ(amqp_url_masked("amqp://chaos:p@ss@host"), "amqp://chaos:***@host") << "the last @ ends the password";
  EXPECT_EQ(amqp_url_masked("amqp://host:5672"), "amqp://host:5672");
  EXPECT_EQ(amqp_url_masked("amqp://user@host"), "amqp://user@host");
  EXPECT_EQ(amqp_url_masked("amqp://host/v@h:x"), "amqp://host/v@h:x") << "an @ in the vhost is not credentials";
  EXPECT_EQ(amqp_url_masked("user:pw@host"), "user:***@host");
}

TEST(AmqpUrlTest, BadUrlsSayWhatIsWrong) {
  EXPECT_EQ(amqp_url_error("amqps://u:p@h:5671"), "must start with amqp:// (amqps is not supported)");
  EXPECT_EQ(amqp_url_error("h:5672"), "must start with amqp:// (amqps is not supported)");
  EXPECT_EQ(amqp_url_error("amqp://h:5672"), "has no USER:PASS@ (the user and password are required)");
  EXPECT_EQ(amqp_url_error("amqp://user@h:5672"), "needs USER:PASS before @");
  EXPECT_EQ(amqp_url_error("amqp://:p@h:5672"), "needs USER:PASS before @");
  EXPECT_EQ(amqp_url_error("amqp://u:p@:5672"), "has no host");
  EXPECT_EQ(amqp_url_error("amqp://u:p@h:"), "has a bad port '' (1..65535)");
  EXPECT_EQ(amqp_url_error("amqp://u:p@h:0"), "has a bad port '0' (1..65535)");
  EXPECT_EQ(amqp_url_error("amqp://u:p@h:12ab"), "has a bad port '12ab' (1..65535)");
  EXPECT_EQ(amqp_url_error("amqp://u:p@[::1"), "has an unclosed [ in the host");
  EXPECT_EQ(amqp_url_error("amqp://u:p@h:5672"), "accepted");
}

}  // namespace
}  // namespace chaos::lab::probe
