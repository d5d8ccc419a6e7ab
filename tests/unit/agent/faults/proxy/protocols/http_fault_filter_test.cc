#include "agent/faults/proxy/protocols/http_fault_filter.h"

#include <gtest/gtest.h>

#include "agent/faults/proxy/protocols/http1_parser.h"
#include "tests/unit/agent/faults/proxy/protocols/protocol_test_chunks.h"

namespace chaos::agent::proxy {
namespace {

using testing::forwarded_bytes;
using namespace std::chrono_literals;

constexpr auto kHttpC2S = Direction::kClientToServer;
constexpr auto kHttpS2C = Direction::kServerToClient;
const SteadyTime kHttpNow{};

HttpFaultConfig http_config(HttpFaultAction action, std::string path = "/orders*") {
  HttpFaultConfig config;
  config.action = action;
  config.match.path_glob = std::move(path);
  config.status = 503;
  config.body = "injected";
  config.delay = 3s;
  return config;
}

struct HttpHarness {
  explicit HttpHarness(HttpFaultConfig config, std::function<double()> random = [] { return 0.0; })
      : factory(std::move(config), std::move(random)), filter(factory.make(ConnectionInfo{})) {}
  HttpFilterFactory factory;
  std::unique_ptr<StreamFilter> filter;
};

TEST(HttpPathGlobTest, StarAndQuestionMark) {
  EXPECT_TRUE(http_path_glob_matches("/orders/*", "/orders/1/items"));
  EXPECT_TRUE(http_path_glob_matches("/orders/?", "/orders/1"));
  EXPECT_FALSE(http_path_glob_matches("/orders/?", "/orders/12"));
  EXPECT_TRUE(http_path_glob_matches("*.json", "/a/b.json"));
  EXPECT_FALSE(http_path_glob_matches("/a", "/a/b"));
  EXPECT_TRUE(http_path_glob_matches("/*/*/c*", "/a/b/cde"));
  EXPECT_TRUE(http_path_glob_matches("*", ""));
}

TEST(HttpFaultFilterTest, AbortAnswersWithAWellFormedResponseAndForwardsNothing) {
  HttpHarness harness(http_config(HttpFaultAction::kAbort));
  const auto verdict = harness.filter->on_bytes(
      kHttpC2S, "POST /orders HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\n\r\nhello", kHttpNow);
  EXPECT_EQ(forwarded_bytes(verdict), "");
  EXPECT_EQ(verdict.close, CloseAction::kNone);
  // The answer re-parses as exactly one response with its body.
  Http1Parser parser(Http1Parser::Role::kResponses);
  std::vector<HttpEvent> events;
  parser.expect_response_to("POST", events);
  parser.feed(verdict.reply, events);
  ASSERT_EQ(events.size(), 3u) << verdict.reply;
  EXPECT_EQ(events[0].head.status, 503);
  EXPECT_EQ(*events[0].head.header("Content-Length"), "8");
  EXPECT_EQ(*events[0].head.header("Connection"), "keep-alive");
  EXPECT_EQ(events[1].bytes, "injected");
  EXPECT_EQ(events[2].type, HttpEventType::kEnd);
  EXPECT_EQ(harness.factory.counters().requests_aborted, 1u);
}

TEST(HttpFaultFilterTest, AbortOfAClosingRequestClosesTheConnection) {
  HttpHarness harness(http_config(HttpFaultAction::kAbort));
  const auto verdict = harness.filter->on_bytes(kHttpC2S, "GET /orders HTTP/1.0\r\n\r\nGET /orders HTTP/1.0\r\n\r\n", kHttpNow);
  EXPECT_NE(verdict.reply.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(verdict.reply.find("HTTP/1.1", 1), std::string::npos) << "one answer, then the close";
  EXPECT_EQ(verdict.close, CloseAction::kClose);
}

TEST(HttpFaultFilterTest, AbortAnswerToHeadHasNoBody) {
  EXPECT_EQ(http_abort_response(404, "gone", true, true),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n"
            "Connection: keep-alive\r\n\r\n");
  EXPECT_EQ(http_abort_response(204, "ignored", false, false), "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
}

TEST(HttpFaultFilterTest, PipelinedAbortWaitsForEarlierResponses) {
  HttpHarness harness(http_config(HttpFaultAction::kAbort));
  const auto requests = harness.filter->on_bytes(
      kHttpC2S, "GET /health HTTP/1.1\r\n\r\nGET /orders HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n", kHttpNow);
  EXPECT_EQ(forwarded_bytes(requests), "GET /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n");
  EXPECT_EQ(requests.reply, "") << "the first response has not come back yet";
  const auto first = harness.filter->on_bytes(kHttpS2C, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", kHttpNow);
  EXPECT_EQ(forwarded_bytes(first), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na" +
                                        http_abort_response(503, "injected", false, true));
  const auto second = harness.filter->on_bytes(kHttpS2C, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb", kHttpNow);
  EXPECT_EQ(forwarded_bytes(second), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb");
}

TEST(HttpFaultFilterTest, UnmatchedTrafficIsForwardedByteForByte) {
  HttpHarness harness(http_config(HttpFaultAction::kAbort));
  const std::string request =
      "PUT /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
  std::string forwarded;
  for (char c : request) forwarded += forwarded_bytes(harness.filter->on_bytes(kHttpC2S, std::string(1, c), kHttpNow));
  EXPECT_EQ(forwarded, request);
}

TEST(HttpFaultFilterTest, DelayHoldsTheMatchedRequestAndWhatFollowsIt) {
  HttpHarness harness(http_config(HttpFaultAction::kDelay));
  const auto verdict =
      harness.filter->on_bytes(kHttpC2S, "GET /a HTTP/1.1\r\n\r\nPOST /orders HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", kHttpNow);
  ASSERT_EQ(verdict.forward.size(), 3u);
  EXPECT_EQ(verdict.forward[0].delay, 0s);
  EXPECT_EQ(verdict.forward[1].bytes, "POST /orders HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(verdict.forward[1].delay, 3s);
  EXPECT_TRUE(verdict.forward[1].hold_order);
  EXPECT_EQ(verdict.forward[2].bytes, "hi");
  EXPECT_TRUE(verdict.forward[2].hold_order);
}

TEST(HttpFaultFilterTest, DelayCanHoldTheResponseInstead) {
  auto config = http_config(HttpFaultAction::kDelay);
  config.delay_response = true;
  HttpHarness harness(std::move(config));
  EXPECT_EQ(forwarded_bytes(harness.filter->on_bytes(kHttpC2S, "GET /orders HTTP/1.1\r\n\r\n", kHttpNow)),
            "GET /orders HTTP/1.1\r\n\r\n");
  const auto verdict = harness.filter->on_bytes(kHttpS2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", kHttpNow);
  ASSERT_EQ(verdict.forward.size(), 1u);
  EXPECT_EQ(verdict.forward[0].delay, 3s);
}

TEST(HttpFaultFilterTest, HeadersAreInjectedIntoMatchedRequestsAndTheirResponses) {
  auto config = http_config(HttpFaultAction::kHeaders);
  config.request_headers = {{"X-Chaos", "1"}, {"user-agent", "chaos"}};
  config.response_headers = {{"Retry-After", "5"}};
  HttpHarness harness(std::move(config));
  EXPECT_EQ(forwarded_bytes(harness.filter->on_bytes(
                kHttpC2S, "GET /orders HTTP/1.1\r\nHost: a\r\nUser-Agent: curl\r\n\r\n", kHttpNow)),
            "GET /orders HTTP/1.1\r\nHost: a\r\nX-Chaos: 1\r\nuser-agent: chaos\r\n\r\n");
  EXPECT_EQ(forwarded_bytes(harness.filter->on_bytes(kHttpS2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", kHttpNow)),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nRetry-After: 5\r\n\r\n");
}

TEST(HttpFaultFilterTest, MatchOnMethodHeaderAndPercent) {
  auto config = http_config(HttpFaultAction::kAbort, "");
  config.match.method = "DELETE";
  config.match.header = "x-tenant";
  config.match.header_value = "blue";
  config.percent = 50;
  std::vector<double> draws = {10, 60};
  std::size_t next = 0;
  HttpHarness harness(std::move(config), [&] { return draws[next++]; });
  EXPECT_EQ(harness.filter->on_bytes(kHttpC2S, "DELETE /x HTTP/1.1\r\nX-Tenant: red\r\n\r\n", kHttpNow).reply, "");
  EXPECT_EQ(harness.filter->on_bytes(kHttpC2S, "GET /x HTTP/1.1\r\nX-Tenant: blue\r\n\r\n", kHttpNow).reply, "");
  harness.filter->on_bytes(kHttpS2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                           kHttpNow);
  EXPECT_NE(harness.filter->on_bytes(kHttpC2S, "DELETE /x HTTP/1.1\r\nX-Tenant: blue\r\n\r\n", kHttpNow).reply, "");
  EXPECT_EQ(harness.filter->on_bytes(kHttpC2S, "DELETE /x HTTP/1.1\r\nX-Tenant: blue\r\n\r\n", kHttpNow).reply, "")
      << "the second draw is above the percentage";
}

TEST(HttpFaultFilterTest, TlsIsPassedThroughAndReported) {
  HttpHarness harness(http_config(HttpFaultAction::kAbort, "*"));
  const std::string hello = "\x16\x03\x01\x00\x10GET /orders HTTP/1.1\r\n\r\n";
  EXPECT_EQ(forwarded_bytes(harness.filter->on_bytes(kHttpC2S, hello, kHttpNow)), hello);
  EXPECT_EQ(harness.factory.counters().tls_connections, 1u);
  EXPECT_EQ(harness.factory.counters().last_pass_through_reason().rfind("TLS: cannot see inside", 0), 0u);
}

TEST(HttpFaultFilterTest, TheProxyMaySpliceOnlyOncePassingThrough) {
  HttpHarness harness(http_config(HttpFaultAction::kAbort, "*"));
  EXPECT_FALSE(harness.filter->passes_through(kHttpC2S));  // requests are parsed
  EXPECT_FALSE(harness.filter->passes_through(kHttpS2C));
  harness.filter->on_bytes(kHttpC2S, "\x16\x03\x01\x00\x10", kHttpNow);
  EXPECT_TRUE(harness.filter->passes_through(kHttpC2S));
  EXPECT_TRUE(harness.filter->passes_through(kHttpS2C));
}

TEST(HttpFaultFilterTest, SpecsAreValidatedNamingTheField) {
  v1::HttpAbort abort;
  abort.set_status(99);
  auto bad_status = make_http_filter_factory(abort, seeded_protocol_percent_source(1));
  ASSERT_FALSE(bad_status.ok());
  EXPECT_NE(bad_status.status().message().find("http_abort.status"), std::string::npos);
  abort.set_status(503);
  abort.set_body(std::string(kHttpFaultMaxBody + 1, 'x'));
  EXPECT_FALSE(make_http_filter_factory(abort, seeded_protocol_percent_source(1)).ok());
  abort.set_body("down");
  abort.mutable_match()->set_path("/a b");
  EXPECT_FALSE(make_http_filter_factory(abort, seeded_protocol_percent_source(1)).ok());
  abort.mutable_match()->set_path("/orders/*");
  EXPECT_TRUE(make_http_filter_factory(abort, seeded_protocol_percent_source(1)).ok());

  v1::HttpHeaders headers;
  auto none = make_http_filter_factory(headers, seeded_protocol_percent_source(1));
  ASSERT_FALSE(none.ok());
  auto* header = headers.add_request_headers();
  header->set_name("Content-Length");
  header->set_value("0");
  auto framing = make_http_filter_factory(headers, seeded_protocol_percent_source(1));
  ASSERT_FALSE(framing.ok());
  EXPECT_NE(framing.status().message().find("http_headers.request_headers[0].name"), std::string::npos);
  header->set_name("X-Fault");
  header->set_value("a\r\nInjected: yes");
  EXPECT_FALSE(make_http_filter_factory(headers, seeded_protocol_percent_source(1)).ok());
  header->set_value("yes");
  EXPECT_TRUE(make_http_filter_factory(headers, seeded_protocol_percent_source(1)).ok());

  v1::HttpDelay delay;
  auto no_delay = make_http_filter_factory(delay, seeded_protocol_percent_source(1));
  ASSERT_FALSE(no_delay.ok());
  EXPECT_NE(no_delay.status().message().find("http_delay.delay"), std::string::npos);
}

}  // namespace
}  // namespace chaos::agent::proxy
