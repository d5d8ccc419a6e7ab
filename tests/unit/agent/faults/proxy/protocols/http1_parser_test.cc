#include "agent/faults/proxy/protocols/http1_parser.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/faults/proxy/protocols/protocol_test_chunks.h"

namespace chaos::agent::proxy {
namespace {

using testing::byte_chunks;
using testing::random_chunks;
using testing::split_at;
using Role = Http1Parser::Role;

const std::string kHttpPipelinedRequests =
    "GET /orders?id=1 HTTP/1.1\r\nHost: shop.lab\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
    "POST /orders HTTP/1.1\r\nHost: shop.lab\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
    "{\"item\":\"ab\"}"
    "PUT /upload HTTP/1.1\r\nHost: shop.lab\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=x\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n"
    "\r\n"
    "HEAD http://shop.lab/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";

const std::string kHttpResponses =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    "HTTP/1.1 100 Continue\r\n\r\n"
    "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    "HTTP/1.1 204 No Content\r\n\r\n"
    "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n";  // the answer to HEAD: no body

struct Framed {
  std::vector<std::string> heads;
  std::string bodies;   // every body byte, in order
  int ends = 0;
  std::string pass_through;
  std::string all;      // every byte handed out
};

Framed frame(Role role, const std::vector<std::string>& chunks, std::vector<std::string> methods = {},
             HttpLimits limits = {}) {
  Http1Parser parser(role, limits);
  std::vector<HttpEvent> events;
  for (auto& method : methods) parser.expect_response_to(method, events);
  for (const auto& chunk : chunks) parser.feed(chunk, events);
  parser.finish(events);
  Framed framed;
  for (const auto& event : events) {
    framed.all += event.bytes;
    switch (event.type) {
      case HttpEventType::kHead: framed.heads.push_back(event.head.method + event.head.path +
                                                        std::to_string(event.head.status)); break;
      case HttpEventType::kBody: framed.bodies += event.bytes; break;
      case HttpEventType::kEnd: ++framed.ends; break;
      case HttpEventType::kBetween: break;
      case HttpEventType::kPassThrough: framed.pass_through += event.bytes; break;
    }
  }
  return framed;
}

TEST(Http1ParserTest, PipelinedRequestsAreFramedInOrder) {
  const auto framed = frame(Role::kRequests, {kHttpPipelinedRequests});
  EXPECT_EQ(framed.heads, (std::vector<std::string>{"GET/orders0", "POST/orders0", "PUT/upload0", "HEAD/health0"}));
  EXPECT_EQ(framed.ends, 4);
  EXPECT_EQ(framed.bodies, "{\"item\":\"ab\"}5;name=x\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n");
  EXPECT_TRUE(framed.pass_through.empty()) << framed.pass_through;
  EXPECT_EQ(framed.all, kHttpPipelinedRequests);
}

TEST(Http1ParserTest, ResponsesFollowTheirRequestsMethods) {
  const auto framed = frame(Role::kResponses, {kHttpResponses}, {"GET", "PUT", "DELETE", "HEAD"});
  EXPECT_EQ(framed.heads, (std::vector<std::string>{"200", "100", "201", "204", "200"}));
  EXPECT_EQ(framed.ends, 5);
  EXPECT_EQ(framed.bodies, "ok3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(framed.all, kHttpResponses);
}

TEST(Http1ParserTest, EveryChunkingFramesTheSame) {
  const auto whole = frame(Role::kRequests, {kHttpPipelinedRequests});
  auto same = [&](const Framed& other) {
    return other.heads == whole.heads && other.bodies == whole.bodies && other.ends == whole.ends &&
           other.all == kHttpPipelinedRequests;
  };
  EXPECT_TRUE(same(frame(Role::kRequests, byte_chunks(kHttpPipelinedRequests))));
  for (std::size_t at = 0; at <= kHttpPipelinedRequests.size(); ++at) {
    ASSERT_TRUE(same(frame(Role::kRequests, split_at(kHttpPipelinedRequests, at)))) << "cut at " << at;
  }
  std::mt19937 random(11);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(same(frame(Role::kRequests, random_chunks(kHttpPipelinedRequests, random))));
  const auto responses = frame(Role::kResponses, byte_chunks(kHttpResponses), {"GET", "PUT", "DELETE", "HEAD"});
  EXPECT_EQ(responses.bodies, "ok3\r\nabc\r\n0\r\n\r\n");
}

TEST(Http1ParserTest, ResponseWithoutLengthEndsAtClose) {
  const auto framed = frame(Role::kResponses, {"HTTP/1.0 200 OK\r\n\r\nuntil the end"});
  EXPECT_EQ(framed.bodies, "until the end");
  EXPECT_EQ(framed.ends, 1);
  EXPECT_TRUE(framed.pass_through.empty());
}

TEST(Http1ParserTest, UpgradesAndTunnelsPassThrough) {
  const auto upgrade = frame(Role::kResponses, {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"});
  EXPECT_EQ(upgrade.heads.size(), 1u);
  EXPECT_EQ(upgrade.pass_through, "\x81\x05hello");
  const auto connect = frame(Role::kRequests, {"CONNECT db.lab:5432 HTTP/1.1\r\nHost: db.lab:5432\r\n\r\n\x16\x03"});
  EXPECT_EQ(connect.pass_through, "\x16\x03");
}

TEST(Http1ParserTest, UnframeableMessagesPassThroughUnchanged) {
  for (const std::string bad : {
           "GET / HTTP/2.0\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
           "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", "\x16\x03\x01\x00"}) {
    const auto framed = frame(Role::kRequests, {bad});
    EXPECT_TRUE(framed.heads.empty() || !framed.pass_through.empty()) << bad;
    EXPECT_EQ(framed.all, bad) << "every byte is handed out, unchanged";
    EXPECT_FALSE(framed.pass_through.empty()) << bad;
  }
}

TEST(Http1ParserTest, HeadBoundsAreEnforced) {
  HttpLimits limits;
  limits.max_line = 100;
  limits.max_headers = 3;
  limits.max_header_block = 300;
  const std::string ok = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  EXPECT_EQ(frame(Role::kRequests, {ok}, {}, limits).ends, 1);
  const std::string too_many = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
  EXPECT_EQ(frame(Role::kRequests, {too_many}, {}, limits).pass_through, too_many);
  const std::string long_line = "GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n";
  EXPECT_EQ(frame(Role::kRequests, {long_line}, {}, limits).pass_through, long_line);
  // Without a line end the parser gives up once a line passes its bound.
  Http1Parser parser(Role::kRequests, limits);
  std::vector<HttpEvent> events;
  parser.feed(std::string(102, 'G'), events);
  EXPECT_TRUE(parser.passing_through());
  const std::string big_block = "GET / HTTP/1.1\r\nA: " + std::string(90, 'a') + "\r\nB: " + std::string(90, 'b') +
                                "\r\nC: " + std::string(90, 'c') + "\r\n\r\n";
  EXPECT_EQ(frame(Role::kRequests, {big_block}, {}, limits).pass_through, big_block);
}

TEST(Http1ParserTest, ChunkLineBoundIsEnforcedAndBodiesAreNotBuffered) {
  HttpLimits limits;
  limits.max_chunk_line = 16;
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const auto long_line = frame(Role::kRequests, {head + "5;" + std::string(20, 'x') + "\r\nhello\r\n0\r\n\r\n"}, {}, limits);
  EXPECT_FALSE(long_line.pass_through.empty());
  Http1Parser parser(Role::kRequests);
  std::vector<HttpEvent> events;
  parser.feed("POST / HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n", events);
  parser.feed(std::string(500000, 'x'), events);
  EXPECT_EQ(parser.buffered(), 0u) << "body bytes are handed out as they arrive";
}

TEST(Http1ParserTest, EndInsideAMessageHandsTheRestOut) {
  const auto framed = frame(Role::kRequests, {"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", "GET / HT"});
  EXPECT_EQ(framed.ends, 1);
  EXPECT_EQ(framed.bodies, "abcGET / H") << "the body takes the next bytes, as the server would";
  EXPECT_EQ(framed.pass_through, "T");
  const auto partial_head = frame(Role::kRequests, {"GET / HTTP/1.1\r\nHost"});
  EXPECT_EQ(partial_head.pass_through, "GET / HTTP/1.1\r\nHost");
}

TEST(Http1ParserTest, KeepAliveFollowsVersionAndConnectionHeader) {
  auto head_of = [](const std::string& text) {
    Http1Parser parser(Role::kRequests);
    std::vector<HttpEvent> events;
    parser.feed(text, events);
    return events.at(0).head;
  };
  EXPECT_TRUE(head_of("GET / HTTP/1.1\r\n\r\n").keep_alive());
  EXPECT_FALSE(head_of("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive());
  EXPECT_FALSE(head_of("GET / HTTP/1.0\r\n\r\n").keep_alive());
  EXPECT_TRUE(head_of("GET / HTTP/1.0\r\nConnection: TE, keep-alive\r\n\r\n").keep_alive());
  EXPECT_EQ(head_of("GET /a/b?q=/c HTTP/1.1\r\n\r\n").path, "/a/b");
}

}  // namespace
}  // namespace chaos::agent::proxy
