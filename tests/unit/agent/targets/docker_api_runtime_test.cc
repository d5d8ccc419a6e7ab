#include "agent/targets/runtime/docker_api_runtime.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/test_http_server.h"

namespace chaos::agent {
namespace {

// A Docker Engine API stand-in on a unix socket in a temp dir: each test
// says what the two endpoints answer.
class DockerApiRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("chaos-docker-api-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "api.sock").string();
    server_.routes().Get("/v1.40/containers/json",
                         [this](const httplib::Request& request, httplib::Response& response) {
                           hosts_.push_back(request.get_header_value("Host"));
                           response.status = status_;
                           response.set_content(list_body_, "application/json");
                         });
    server_.routes().Get(R"(/v1.40/containers/([0-9a-f]+)/json)",
                         [this](const httplib::Request& request, httplib::Response& response) {
                           inspected_.push_back(request.matches[1]);
                           response.status = status_;
                           response.set_content(inspect_body_, "application/json");
                         });
    ASSERT_TRUE(server_.listen_on_unix_socket(socket_));
  }

  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }

  DockerApiRuntime runtime(DockerApiLimits limits = {}) { return DockerApiRuntime("docker", socket_, limits); }

  std::filesystem::path dir_;
  std::string socket_;
  int status_ = 200;
  std::string list_body_ = "[]";
  std::string inspect_body_ = "{}";
  std::vector<std::string> hosts_;
  std::vector<std::string> inspected_;
  test_support::TestHttpServer server_;  // last: stopped before the members its handlers use
};

constexpr const char* kId1 = "3f2a9c1b7e44aa00bb11cc22dd33ee44ff5566778899aabbccddeeff00112233";
constexpr const char* kId2 = "9e8d7c6b5a4900112233445566778899aabbccddeeff00112233445566778899";

TEST_F(DockerApiRuntimeTest, ListsTheRunningContainersWithNamesAndLabels) {
  list_body_ = std::string(R"([
    {"Id": ")") +
               kId1 + R"(", "Names": ["/nats-1"], "State": "running",
     "Labels": {"app": "nats", "io.kubernetes.pod.namespace": "prod"}, "Image": "ignored"},
    {"Id": ")" +
               kId2 + R"(", "Names": ["nats-2"], "Labels": null},
    {"Id": "abcdef012345", "Names": ["/gone"], "State": "exited", "Labels": {}}
  ])";
  auto listed = runtime().list_running();
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].runtime, "docker");
  EXPECT_EQ((*listed)[0].id, kId1);
  EXPECT_EQ((*listed)[0].name, "nats-1");
  EXPECT_EQ((*listed)[0].labels,
            (std::map<std::string, std::string>{{"app", "nats"}, {"io.kubernetes.pod.namespace", "prod"}}));
  EXPECT_EQ((*listed)[0].pid, 0);
  EXPECT_EQ((*listed)[1].name, "nats-2");
  EXPECT_TRUE((*listed)[1].labels.empty());
  EXPECT_TRUE(inspected_.empty()) << "listing inspects nothing";
  // Go's HTTP server refuses a Host header holding a socket path.
  EXPECT_EQ(hosts_, std::vector<std::string>{"localhost"});
}

TEST_F(DockerApiRuntimeTest, InspectReadsPidStateNameAndLabels) {
  inspect_body_ = std::string(R"({"Id": ")") + kId1 + R"(", "Name": "/nats-1",
    "State": {"Status": "running", "Running": true, "Pid": 4242},
    "Config": {"Labels": {"app": "nats"}, "Image": "x"}})";
  auto info = runtime().inspect(kId1);
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->id, kId1);
  EXPECT_EQ(info->name, "nats-1");
  EXPECT_EQ(info->pid, 4242);
  EXPECT_TRUE(info->running);
  EXPECT_EQ(info->labels.at("app"), "nats");
  EXPECT_EQ(inspected_, std::vector<std::string>{kId1});

  inspect_body_ = std::string(R"({"Id": ")") + kId1 + R"(", "Name": "/nats-1",
    "State": {"Running": false, "Pid": 0}, "Config": {"Labels": null}})";
  info = runtime().inspect(kId1);
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_FALSE(info->running);
  EXPECT_EQ(info->pid, 0);
}

TEST_F(DockerApiRuntimeTest, AnIdThatIsNotHexIsRefusedWithoutAsking) {
  EXPECT_EQ(runtime().inspect("../../info").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(inspected_.empty());
}

TEST_F(DockerApiRuntimeTest, AnAbsentSocketIsUnavailableNamingSocketAndEndpoint) {
  DockerApiRuntime absent("podman", (dir_ / "nothing.sock").string());
  auto listed = absent.list_running();
  EXPECT_EQ(listed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(listed.status().message().find((dir_ / "nothing.sock").string() + ": GET /v1.40/containers/json"),
            std::string::npos)
      << listed.status().message();
}

TEST_F(DockerApiRuntimeTest, AnErrorStatusIsUnavailableQuotingTheAnswer) {
  status_ = 500;
  list_body_ = R"({"message": "daemon is shutting down"})";
  auto listed = runtime().list_running();
  EXPECT_EQ(listed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(listed.status().message(), "docker API at " + socket_ +
                                           ": GET /v1.40/containers/json: HTTP 500: {\"message\": \"daemon is "
                                           "shutting down\"}");
}

TEST_F(DockerApiRuntimeTest, MalformedOrWrongTypedJsonIsInternalNamingTheField) {
  const auto list_error = [this](std::string body) {
    list_body_ = std::move(body);
    return runtime().list_running().status();
  };
  const std::string where = "docker API at " + socket_ + ": GET /v1.40/containers/json: ";
  EXPECT_EQ(list_error("[{\"Id\": ").code(), StatusCode::kInternal);
  EXPECT_EQ(list_error("[{\"Id\": ").message().rfind(where + "malformed JSON", 0), 0u);
  EXPECT_EQ(list_error(R"({"Id": "abcd"})").message(), where + "expected a JSON array of containers");
  EXPECT_EQ(list_error(R"([{"Id": 12}])").message(), where + "Id is not a string");
  EXPECT_EQ(list_error(R"([{"Id": "zz; rm"}])").message(), where + "Id 'zz; rm' is not a hex container id");
  EXPECT_EQ(list_error(R"([{"Id": "abcd", "Names": "/x"}])").message(), where + "Names is not an array");
  EXPECT_EQ(list_error(R"([{"Id": "abcd", "Labels": ["a"]}])").message(), where + "Labels is not an object");
  EXPECT_EQ(list_error(R"([{"Id": "abcd", "Labels": {"a": 1}}])").message(), where + "Labels.a is not a string");
  EXPECT_EQ(list_error(R"([7])").message(), where + "a list entry is not an object");
  EXPECT_EQ(list_error(std::string(100, '[') + std::string(100, ']')).message(), where + "JSON nested deeper than 64");

  const auto inspect_error = [this](std::string body) {
    inspect_body_ = std::move(body);
    return runtime().inspect(kId1).status();
  };
  const std::string inspect_where = "docker API at " + socket_ + ": GET /v1.40/containers/" + kId1 + "/json: ";
  const std::string id = std::string(R"("Id": ")") + kId1 + "\"";
  EXPECT_EQ(inspect_error("{" + id + "}").message(), inspect_where + "State is not an object");
  EXPECT_EQ(inspect_error("{" + id + R"(, "State": {"Running": "yes", "Pid": 1}})").message(),
            inspect_where + "State.Running is not a boolean");
  EXPECT_EQ(inspect_error("{" + id + R"(, "State": {"Running": true, "Pid": "1"}})").message(),
            inspect_where + "State.Pid is not an integer");
  EXPECT_EQ(inspect_error("{" + id + R"(, "State": {"Running": true, "Pid": 99999999999}})").message(),
            inspect_where + "State.Pid 99999999999 is out of range");
  EXPECT_EQ(inspect_error("{" + id + R"(, "State": {"Running": true, "Pid": 1}, "Config": [1]})").message(),
            inspect_where + "Config is not an object");
}

TEST_F(DockerApiRuntimeTest, OversizedAnswersAreRefusedAndLabelsBounded) {
  DockerApiLimits limits;
  limits.max_body_bytes = 4096;
  limits.max_containers = 2;
  limits.max_labels = 3;
  list_body_ = "[" + std::string(5000, ' ') + "]";
  auto listed = runtime(limits).list_running();
  EXPECT_EQ(listed.status().code(), StatusCode::kInternal);
  EXPECT_EQ(listed.status().message(),
            "docker API at " + socket_ + ": GET /v1.40/containers/json: response larger than 4096 bytes");

  list_body_ = R"([{"Id": "aaaa"}, {"Id": "bbbb"}, {"Id": "cccc"}])";
  listed = runtime(limits).list_running();
  EXPECT_EQ(listed.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(listed.status().message().find("3 containers, more than the 2"), std::string::npos);

  // Too many labels: left out (it could never be a target); an over-long
  // label: dropped (no selector can name it).
  list_body_ = R"([{"Id": "aaaa", "Labels": {"a": "1", "b": "2", "c": "3", "d": "4"}},
                   {"Id": "bbbb", "Labels": {"app": "x", "long": ")" +
               std::string(300, 'v') + R"("}}])";
  listed = runtime(limits).list_running();
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, "bbbb");
  EXPECT_EQ(listed->front().labels, (std::map<std::string, std::string>{{"app", "x"}}));
}

TEST(DockerApiRuntimeDefaults, AreTheDocumentedBounds) {
  const DockerApiLimits limits;
  EXPECT_EQ(limits.max_body_bytes, 8u << 20);
  EXPECT_EQ(limits.max_containers, 4096u);
  EXPECT_EQ(limits.connect_timeout.count(), 2000);
  EXPECT_EQ(limits.read_timeout.count(), 2000);
}

}  // namespace
}  // namespace chaos::agent
