// management_request against an httplib::Server on 127.0.0.1 (a free port):
// a reply body over the limit and a reply that trickles forever both end
// in an error instead of memory growth or a hang.
#include "lab/rabbitmq/management_api.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/test_http_server.h"

namespace chaos::lab {
namespace {

using namespace std::chrono_literals;

class ManagementApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.routes().Get("/small", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(R"({"leader":"rabbit@n1.lab"})", "application/json");
    });
    server_.routes().Put("/echo", [](const httplib::Request& request, httplib::Response& response) {
      response.status = 201;
      response.set_content(request.get_header_value("Content-Type") + " " + request.body, "text/plain");
    });
    server_.routes().Get("/huge", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(std::string(kManagementMaxBody + 1, 'x'), "text/plain");
    });
    // One byte every 50 ms, forever: each read is quick, the reply never ends.
    server_.routes().Get("/trickle", [this](const httplib::Request&, httplib::Response& response) {
      response.set_chunked_content_provider("text/plain", [this](size_t, httplib::DataSink& sink) {
        if (server_.closing()) return false;
        std::this_thread::sleep_for(50ms);
        return sink.write("x", 1);
      });
    });
    ASSERT_TRUE(server_.listen_on_loopback());
    port_ = server_.port();
  }

  test_support::TestHttpServer server_;
  int port_ = 0;
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
