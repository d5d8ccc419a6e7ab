// Seeded mutation fuzzing of everything that reads proxied bytes: realistic
// NATS and HTTP/1.1 streams, mutated (bit flips, random bytes, cuts,
// inserted line ends, changed digits, duplicated spans), fed in random
// chunkings. Under ASan/UBSan in CI it must never crash, every byte must be
// handed out exactly once and unchanged, buffering stays within the bounds,
// the chunking does not change the framing, and a filter whose rule matches
// nothing forwards every stream unchanged.
#include <gtest/gtest.h>

#include <random>

#include "agent/faults/proxy/protocols/http1_parser.h"
#include "agent/faults/proxy/protocols/http_fault_filter.h"
#include "agent/faults/proxy/protocols/nats_fault_filter.h"
#include "agent/faults/proxy/protocols/nats_protocol.h"
#include "tests/unit/agent/faults/proxy/protocols/protocol_test_chunks.h"

namespace chaos::agent::proxy {
namespace {

using testing::forwarded_bytes;
using testing::random_chunks;

constexpr int kFuzzIterations = 12000;
const SteadyTime kFuzzNow{};

const std::vector<std::string> kNatsSeeds = {
    "CONNECT {\"verbose\":true,\"headers\":true}\r\nPING\r\nSUB orders.* 1\r\nPUB orders.new _INBOX.a 5\r\nhello\r\n"
    "HPUB orders.new 12 17\r\nNATS/1.0\r\n\r\nhello\r\nUNSUB 1\r\n",
    "INFO {\"server_id\":\"N\",\"max_payload\":1048576}\r\n+OK\r\nMSG orders.new 1 5\r\nhello\r\n"
    "MSG _INBOX.a 2 $JS.ACK.s.c.1.1.1.1.0 2\r\nok\r\nHMSG a.b 3 r 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n-ERR 'x'\r\n",
    "INFO {\"tls_required\":true}\r\n\x16\x03\x01\x00\x20" + std::string(32, '\x42'),
};

const std::vector<std::string> kHttpRequestSeeds = {
    "GET /orders?id=1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /orders HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    "PUT /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\n"
    "\r\nHEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "DELETE /orders/7 HTTP/1.1\r\nX-Tenant: blue\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
};

const std::vector<std::string> kHttpResponseSeeds = {
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.0 200 OK\r\n\r\nrest",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi",
};

std::string fuzz_mutate(std::string stream, std::mt19937& random) {
  static const char* kPieces[] = {"\r\n", "\n", " ", "\r", "0", "99999999999", "-1", ";", ":", "\x16", "*", ">"};
  const int rounds = 1 + static_cast<int>(random() % 4);
  for (int round = 0; round < rounds; ++round) {
    const std::size_t size = stream.size();
    const std::size_t at = size == 0 ? 0 : random() % size;
    switch (random() % 7) {
      case 0:
        if (size) stream[at] = static_cast<char>(stream[at] ^ (1 << (random() % 8)));
        break;
      case 1:
        if (size) stream[at] = static_cast<char>(random());
        break;
      case 2: stream.resize(at); break;
      case 3: stream.insert(at, kPieces[random() % (sizeof kPieces / sizeof *kPieces)]); break;
      case 4:
        if (size && stream[at] >= '0' && stream[at] <= '9') stream[at] = static_cast<char>('0' + random() % 10);
        break;
      case 5:
        if (size) stream.insert(at, stream.substr(random() % size, random() % 64));
        break;
      default: stream.erase(at, random() % 8); break;
    }
  }
  return stream;
}

struct NatsFuzzResult {
  std::vector<std::string> messages;
  std::string all;
};

NatsFuzzResult nats_fuzz_split(const std::vector<std::string>& chunks, const NatsLimits& limits) {
  NatsSplitter splitter(limits);
  NatsSplitter::Output out;
  for (const auto& chunk : chunks) {
    splitter.feed(chunk, out);
    EXPECT_LE(splitter.buffered(), limits.max_control_line + limits.max_payload + 4);
  }
  splitter.finish(out);
  NatsFuzzResult result;
  for (const auto& message : out.messages) {
    result.messages.push_back(message.bytes);
    result.all += message.bytes;
  }
  result.all += out.pass_through;
  return result;
}

TEST(ProtocolFuzzTest, NatsSplitterHandsOutEveryByteOnceWhateverTheChunking) {
  std::mt19937 random(20261202);
  NatsLimits limits;
  limits.max_control_line = 128;  // small, so the bounds are hit too
  limits.max_payload = 64;
  for (int i = 0; i < kFuzzIterations; ++i) {
    const std::string stream = fuzz_mutate(kNatsSeeds[static_cast<std::size_t>(i) % kNatsSeeds.size()], random);
    const auto whole = nats_fuzz_split({stream}, limits);
    const auto chunked = nats_fuzz_split(random_chunks(stream, random, 1 + random() % 40), limits);
    ASSERT_EQ(whole.all, stream) << "iteration " << i;
    ASSERT_EQ(chunked.all, stream) << "iteration " << i;
    ASSERT_EQ(chunked.messages, whole.messages) << "iteration " << i;
  }
}

struct HttpFuzzResult {
  std::vector<std::string> framing;  // heads, ends, pass-through starts
  std::string all;
};

HttpFuzzResult http_fuzz_frame(Http1Parser::Role role, const std::vector<std::string>& chunks) {
  HttpLimits limits;
  limits.max_line = 128;
  limits.max_headers = 6;
  limits.max_header_block = 512;
  limits.max_chunk_line = 32;
  Http1Parser parser(role, limits);
  std::vector<HttpEvent> events;
  for (const char* method : {"GET", "HEAD", "GET"}) parser.expect_response_to(method, events);
  for (const auto& chunk : chunks) {
    parser.feed(chunk, events);
    EXPECT_LE(parser.buffered(), limits.max_header_block + limits.max_line + 2);
  }
  parser.finish(events);
  HttpFuzzResult result;
  for (const auto& event : events) {
    result.all += event.bytes;
    if (event.type == HttpEventType::kHead) result.framing.push_back(event.bytes);
    if (event.type == HttpEventType::kEnd) result.framing.push_back("<end>");
    if (event.type == HttpEventType::kPassThrough && (result.framing.empty() || result.framing.back() != "<pass>")) {
      result.framing.push_back("<pass>");
    }
  }
  return result;
}

TEST(ProtocolFuzzTest, HttpParserHandsOutEveryByteOnceWhateverTheChunking) {
  std::mt19937 random(4242);
  for (int i = 0; i < kFuzzIterations; ++i) {
    const bool requests = i % 2 == 0;
    const auto& seeds = requests ? kHttpRequestSeeds : kHttpResponseSeeds;
    const auto role = requests ? Http1Parser::Role::kRequests : Http1Parser::Role::kResponses;
    const std::string stream = fuzz_mutate(seeds[static_cast<std::size_t>(i / 2) % seeds.size()], random);
    const auto whole = http_fuzz_frame(role, {stream});
    const auto chunked = http_fuzz_frame(role, random_chunks(stream, random, 1 + random() % 40));
    ASSERT_EQ(whole.all, stream) << "iteration " << i;
    ASSERT_EQ(chunked.all, stream) << "iteration " << i;
    ASSERT_EQ(chunked.framing, whole.framing) << "iteration " << i;
  }
}

// Both directions interleaved in random chunks; returns what was forwarded
// each way and the replies, and checks the contract's basics on the way.
struct FilterFuzzRun {
  std::string to_server, to_client, replies;
};

FilterFuzzRun fuzz_filter(StreamFilter& filter, const std::string& from_client, const std::string& from_server,
                          std::mt19937& random) {
  FilterFuzzRun run;
  const auto client_chunks = random_chunks(from_client, random, 1 + random() % 48);
  const auto server_chunks = random_chunks(from_server, random, 1 + random() % 48);
  std::size_t c = 0, s = 0;
  while (c < client_chunks.size() || s < server_chunks.size()) {
    const bool client_turn = s == server_chunks.size() || (c < client_chunks.size() && random() % 2 == 0);
    const auto verdict = client_turn ? filter.on_bytes(Direction::kClientToServer, client_chunks[c++], kFuzzNow)
                                     : filter.on_bytes(Direction::kServerToClient, server_chunks[s++], kFuzzNow);
    (client_turn ? run.to_server : run.to_client) += forwarded_bytes(verdict);
    run.replies += verdict.reply;
  }
  run.to_server += forwarded_bytes(filter.on_end(Direction::kClientToServer, kFuzzNow));
  run.to_client += forwarded_bytes(filter.on_end(Direction::kServerToClient, kFuzzNow));
  return run;
}

TEST(ProtocolFuzzTest, NatsFilterNeverCrashesAndForwardsUnmatchedStreamsUnchanged) {
  std::mt19937 random(77);
  NatsFaultConfig nothing;
  nothing.subjects.push_back(NatsSubjectPattern::compile("never.matches.this").value());
  nothing.action = NatsFaultAction::kDrop;
  nothing.error = "x";
  NatsFaultConfig everything;
  everything.subjects.push_back(NatsSubjectPattern::compile(">").value());
  everything.action = NatsFaultAction::kDelay;
  everything.delay = std::chrono::seconds(1);
  NatsFilterFactory untouched(nothing, 0, seeded_protocol_percent_source(1));
  NatsFilterFactory delaying(everything, 0, seeded_protocol_percent_source(1));
  for (int i = 0; i < kFuzzIterations; ++i) {
    const std::string client = fuzz_mutate(kNatsSeeds[0], random);
    const std::string server = fuzz_mutate(kNatsSeeds[1 + static_cast<std::size_t>(i) % 2], random);
    auto plain = untouched.make(ConnectionInfo{});
    const auto run = fuzz_filter(*plain, client, server, random);
    ASSERT_EQ(run.to_server, client) << "iteration " << i;
    ASSERT_EQ(run.to_client, server) << "iteration " << i;
    ASSERT_EQ(run.replies, "");
    if (i % 2 == 1) continue;  // the matching filter on half of them keeps the run short
    auto delayed = delaying.make(ConnectionInfo{});
    const auto late = fuzz_filter(*delayed, client, server, random);
    // Delaying reorders nothing within an emit and drops nothing.
    ASSERT_EQ(late.to_server.size(), client.size()) << "iteration " << i;
    ASSERT_EQ(late.to_client.size(), server.size()) << "iteration " << i;
  }
}

TEST(ProtocolFuzzTest, HttpFilterNeverCrashesAndForwardsUnmatchedStreamsUnchanged) {
  std::mt19937 random(99);
  HttpFaultConfig nothing;
  nothing.match.path_glob = "/never/matches/*";
  nothing.action = HttpFaultAction::kAbort;
  HttpFaultConfig everything;
  everything.action = HttpFaultAction::kAbort;
  everything.status = 500;
  everything.body = "boom";
  HttpFilterFactory untouched(nothing, seeded_protocol_percent_source(1));
  HttpFilterFactory aborting(everything, seeded_protocol_percent_source(1));
  int answered = 0;
  for (int i = 0; i < kFuzzIterations; ++i) {
    const std::string client = fuzz_mutate(kHttpRequestSeeds[static_cast<std::size_t>(i) % 3], random);
    const std::string server = fuzz_mutate(kHttpResponseSeeds[static_cast<std::size_t>(i / 3) % 3], random);
    auto plain = untouched.make(ConnectionInfo{});
    const auto run = fuzz_filter(*plain, client, server, random);
    ASSERT_EQ(run.to_server, client) << "iteration " << i;
    ASSERT_EQ(run.to_client, server) << "iteration " << i;
    if (i % 2 == 1) continue;
    auto aborted = aborting.make(ConnectionInfo{});
    const auto answers = fuzz_filter(*aborted, client, server, random);
    answered += answers.replies.empty() ? 0 : 1;
  }
  // Enough mutated requests stay valid for the abort path to be exercised.
  EXPECT_GT(answered, kFuzzIterations / 20);
}

}  // namespace
}  // namespace chaos::agent::proxy
