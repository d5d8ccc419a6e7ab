// management_request against an httplib::Server on 127.0.0.1 (a free port):
// a reply body over the limit and a reply that trickles forever both end
// in an error instead of memory growth or a hang.
#include "lab/rabbitmq/management_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace chaos::lab {
namespace {

using namespace std::chrono_literals;

class ManagementApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/small", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(R"({"leader":"rabbit@n1.lab"})", "application/json");
    });
    server_.Put("/echo", [](const httplib::Request& request, httplib::Response& response) {
      response.status = 201;
      response.set_content(request.get_header_value("Content-Type") + " " + request.body, "text/plain");
    });
    server_.Get("/huge", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(std::string(kManagementMaxBody + 1, 'x'), "text/plain");
    });
    // One byte every 50 ms, forever: each read is quick, the reply never ends.
    server_.Get("/trickle", [this](const httplib::Request&, httplib::Response& response) {
      response.set_chunked_content_provider("text/plain", [this](size_t, httplib::DataSink& sink) {
        if (stopping_) return false;
        std::this_thread::sleep_for(50ms);
        return sink.write("x", 1);
      });
    });
    // Bound and listening: connections queue until listen_after_bind accepts.
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  void TearDown() override {
    stopping_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  httplib::Server server_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
  std::thread thread_;
};

TEST_F(ManagementApiTest, SmallRepliesAndPutBodiesGoThrough) {
  auto reply = management_request("127.0.0.1", port_, "GET", "/small", "", 2000ms);
  ASSERT_TRUE(reply.ok()) << reply.status().message();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, R"({"leader":"rabbit@n1.lab"})");
  auto put = management_request("127.0.0.1", port_, "PUT", "/echo", R"({"durable":true})", 2000ms);
  ASSERT_TRUE(put.ok()) << put.status().message();
  EXPECT_EQ(put->status, 201);
  EXPECT_EQ(put->body, R"(application/json {"durable":true})");
}

TEST_F(ManagementApiTest, AReplyOverTheBodyLimitIsRefused) {
  auto reply = management_request("127.0.0.1", port_, "GET", "/huge", "", 5000ms);
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("GET http://127.0.0.1:" + std::to_string(port_) + "/huge: reply body over"),
            std::string::npos)
      << reply.status().message();
}

TEST_F(ManagementApiTest, AReplyThatNeverEndsIsCutAtTheTimeout) {
  auto reply = management_request("127.0.0.1", port_, "GET", "/trickle", "", 300ms);
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("reply not complete within 300 ms"), std::string::npos)
      << reply.status().message();
}

}  // namespace
}  // namespace chaos::lab
