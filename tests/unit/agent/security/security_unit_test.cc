// The agent's security edge without a network: loopback decisions, the
// bearer token, audit lines and file, capability requirements, TLS config.
#include <sys/resource.h>
#include <sys/stat.h>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "agent/agent_config.h"
#include "agent/os_capabilities.h"
#include "agent/security/audit_log.h"
#include "chaos/v1/agent.grpc.pb.h"
#include "agent/security/bearer_token.h"
#include "agent/security/listen_policy.h"
#include "agent/security/request_schema.h"
#include "agent/security/request_summary.h"
#include "common/loopback.h"

namespace chaos::agent {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("security-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string write_file(const fs::path& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path.string();
}

TEST(LoopbackTest, LoopbackAddressesAndNamesAreLoopback) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
}

TEST(LoopbackTest, WildcardsAndOtherAddressesAreNot) {
  for (const char* host : {"0.0.0.0", "::", "[::]", "10.77.0.11", "128.0.0.1", "126.255.255.255", "", "example",
                           "localhost.example", "127.0.0.1.nip.io", "::ffff:10.0.0.1", "fe80::1"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

TEST(LoopbackTest, HostOfAddressHandlesBrackets) {
  EXPECT_EQ(host_of_address("127.0.0.1:9700"), "127.0.0.1");
  EXPECT_EQ(host_of_address("[::1]:9700"), "::1");
  EXPECT_EQ(host_of_address("localhost:0"), "localhost");
}

TEST(ListenPolicyTest, PlaintextOnlyOnLoopbackUnlessTlsOrForced) {
  EXPECT_TRUE(check_plaintext_listen("127.0.0.1:9700", false, false).ok());
  EXPECT_TRUE(check_plaintext_listen("[::1]:9700", false, false).ok());
  const Status refused = check_plaintext_listen("0.0.0.0:9700", false, false);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("0.0.0.0:9700"), std::string::npos);
  EXPECT_NE(refused.message().find("--insecure-plaintext-on-non-loopback"), std::string::npos);
  EXPECT_FALSE(check_plaintext_listen("[::]:9700", false, false).ok());
  EXPECT_FALSE(check_plaintext_listen("10.77.0.11:9700", false, false).ok());
  EXPECT_TRUE(check_plaintext_listen("10.77.0.11:9700", true, false).ok());
  EXPECT_TRUE(check_plaintext_listen("10.77.0.11:9700", false, true).ok());
}

TEST(BearerTokenTest, OnlyTheExactTokenWithTheSchemeMatches) {
  const std::string token = "s3cret-token-0123456789";
  EXPECT_TRUE(bearer_token_matches(token, "Bearer " + token));
  EXPECT_FALSE(bearer_token_matches(token, token));
  EXPECT_FALSE(bearer_token_matches(token, "Bearer " + token + "x"));
  EXPECT_FALSE(bearer_token_matches(token, "Bearer " + token.substr(1)));
  EXPECT_FALSE(bearer_token_matches(token, "bearer " + token));
  EXPECT_FALSE(bearer_token_matches(token, ""));
  EXPECT_FALSE(bearer_token_matches("", "Bearer "));
}

TEST(BearerTokenTest, TokenFileMustBePrivateAndLongEnough) {
  const fs::path dir = temp_dir("token");
  auto loaded = load_token_file(write_file(dir / "good", "s3cret-token-0123456789\n", 0600));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(*loaded, "s3cret-token-0123456789");
  EXPECT_EQ(load_token_file(write_file(dir / "shared", "s3cret-token-0123456789\n", 0644)).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(load_token_file(write_file(dir / "short", "short\n", 0600)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(load_token_file((dir / "missing").string()).status().code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

AuditRecord sample_record() {
  return {std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123)),
          "CN=chaosctl,O=chaos", "ipv4:127.0.0.1:5000", "Inject", {{"experiment_id", "e1"}}, "ok", "fault f-1"};
}

TEST(AuditLogTest, LineCarriesEveryField) {
  const auto line = nlohmann::json::parse(audit_line(sample_record()));
  EXPECT_EQ(line["time"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(line["caller"], "CN=chaosctl,O=chaos");
  EXPECT_EQ(line["peer"], "ipv4:127.0.0.1:5000");
  EXPECT_EQ(line["rpc"], "Inject");
  EXPECT_EQ(line["request"]["experiment_id"], "e1");
  EXPECT_EQ(line["result"], "ok");
  EXPECT_EQ(line["message"], "fault f-1");
}

TEST(AuditLogTest, HostileInputCannotBreakOrBloatTheLine) {
  AuditRecord record = sample_record();
  record.caller = "evil\n{\"rpc\":\"forged\"}\xff\xfe";
  record.message = std::string(100000, 'x');
  record.request = {{"blob", std::string(100000, 'y')}};
  const std::string text = audit_line(record);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_LT(text.size(), 8000u);
  const auto line = nlohmann::json::parse(text);
  EXPECT_EQ(line["rpc"], "Inject");
  EXPECT_TRUE(line["request"].contains("truncated"));
}

TEST(AuditLogTest, FileSinkAppendsPrivateLines) {
  const fs::path dir = temp_dir("audit");
  const std::string path = (dir / "audit.log").string();
  write_file(path, "{\"earlier\":true}\n", 0644);
  {
    auto sink = FileAuditSink::open(path);
    ASSERT_TRUE(sink.ok()) << sink.status().message();
    (*sink)->record(sample_record());
    (*sink)->record(sample_record());
  }
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "{\"earlier\":true}");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["rpc"], "Inject");
  fs::remove_all(dir);
}

TEST(AuditLogTest, FileSinkRotatesSoTheLogStaysBounded) {
  const fs::path dir = temp_dir("audit-rotate");
  const std::string path = (dir / "audit.log").string();
  const std::size_t line_bytes = audit_line(sample_record()).size() + 1;
  {
    auto sink = FileAuditSink::open(path, 3 * line_bytes);
    ASSERT_TRUE(sink.ok()) << sink.status().message();
    for (int i = 0; i < 10; ++i) (*sink)->record(sample_record());
  }
  EXPECT_LE(fs::file_size(path), 3 * line_bytes);
  EXPECT_LE(fs::file_size(path + ".1"), 3 * line_bytes);
  EXPECT_GT(fs::file_size(path + ".1"), 0u);
  EXPECT_FALSE(fs::exists(path + ".2")) << "one generation is kept, no more";
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  fs::remove_all(dir);
}

std::vector<std::string> audit_file_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t audit_occurrences(const std::string& text, const std::string& word) {
  std::size_t count = 0;
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + word.size())) ++count;
  return count;
}

// A rotation that fails (here <path>.1 is a directory, so the rename does)
// is warned about once and tried again only after another max_bytes, not
// on every record; once the way is clear the next try rotates.
TEST(AuditLogTest, FileSinkBacksOffAFailedRotationAndWarnsOnce) {
  const fs::path dir = temp_dir("audit-rotate-fails");
  const std::string path = (dir / "audit.log").string();
  const std::size_t line_bytes = audit_line(sample_record()).size() + 1;
  fs::create_directory(path + ".1");
  auto sink = FileAuditSink::open(path, 2 * line_bytes, std::chrono::hours(1));
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 10; ++i) (*sink)->record(sample_record());
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(audit_occurrences(warnings, "cannot rotate"), 1u) << warnings;
  EXPECT_EQ(audit_file_lines(path).size(), 10u) << "no record is lost while rotation fails";
  fs::remove(path + ".1");
  (*sink)->record(sample_record());
  EXPECT_EQ(audit_file_lines(path + ".1").size(), 10u);
  EXPECT_EQ(audit_file_lines(path).size(), 1u);
  sink->reset();
  fs::remove_all(dir);
}

// What survives the agent being killed right after answering: the record
// is in the file (the page cache) when record() returns, flushed or not.
TEST(AuditLogTest, FileSinkRecordIsInTheFileWhenRecordReturns) {
  const fs::path dir = temp_dir("audit-written");
  const std::string path = (dir / "audit.log").string();
  auto sink = FileAuditSink::open(path, FileAuditSink::kDefaultMaxBytes, std::chrono::hours(1));
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  (*sink)->record(sample_record());
  const auto lines = audit_file_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["rpc"], "Inject");
  sink->reset();
  fs::remove_all(dir);
}

TEST(AuditLogTest, FileSinkGroupCommitsRecordsWithOneFlush) {
  const fs::path dir = temp_dir("audit-group");
  const std::string path = (dir / "audit.log").string();
  auto sink = FileAuditSink::open(path, FileAuditSink::kDefaultMaxBytes, std::chrono::hours(1));
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  for (int i = 0; i < 5; ++i) (*sink)->record(sample_record());
  EXPECT_EQ((*sink)->syncs(), 0u) << "an hour's delay: nothing flushed yet";
  (*sink)->flush();
  EXPECT_EQ((*sink)->syncs(), 1u) << "one fdatasync covers all five";
  (*sink)->flush();
  EXPECT_EQ((*sink)->syncs(), 1u) << "nothing left to flush";
  (*sink)->record(sample_record());
  sink->reset();  // must not wait out the hour; flushes the last record
  EXPECT_EQ(audit_file_lines(path).size(), 6u);
  fs::remove_all(dir);
}

TEST(AuditLogTest, FileSinkFlushesOnItsOwnAfterTheDelay) {
  const fs::path dir = temp_dir("audit-delay");
  const std::string path = (dir / "audit.log").string();
  auto sink = FileAuditSink::open(path, FileAuditSink::kDefaultMaxBytes, std::chrono::milliseconds(1));
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  (*sink)->record(sample_record());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*sink)->syncs() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ((*sink)->syncs(), 1u) << "the flusher did not run";
  (*sink)->record(sample_record());  // a new flusher for the next record
  while ((*sink)->syncs() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ((*sink)->syncs(), 2u);
  sink->reset();
  fs::remove_all(dir);
}

nlohmann::json printed_by_protobuf(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(message, &text, options).ok());
  return nlohmann::json::parse(text);
}

// The schema the tests summarise with: the service's requests, and Fault
// (not a request, but it has maps and timestamps).
const RequestSchema& test_schema() {
  static const RequestSchema schema = [] {
    RequestSchema built = RequestSchema::for_messages({v1::Fault::descriptor()});
    return built;
  }();
  return schema;
}

const RequestSchema& service_schema() {
  static const RequestSchema schema = RequestSchema::for_service(
      *google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(v1::Agent::service_full_name()));
  return schema;
}

nlohmann::json summary_of(const google::protobuf::Message& message) {
  const std::string& name = message.GetDescriptor()->full_name();
  const MessageSchema* type = service_schema().message(name);
  if (type == nullptr) type = test_schema().message(name);
  if (type == nullptr) {
    ADD_FAILURE() << "no schema for " << name;
    return nullptr;
  }
  return request_summary(*type, message);
}

// Sets every field of `message` that is not a oneof member to a value that
// differs by field (numbers, strings, enums past their zero, 2 elements of
// repeated and map fields), recursing into messages up to `depth`.
void fill_every_field(google::protobuf::Message& message, int seed, int depth) {
  using google::protobuf::FieldDescriptor;
  const auto& type = *message.GetDescriptor();
  const auto& reflection = *message.GetReflection();
  if (type.full_name() == "google.protobuf.Duration" || type.full_name() == "google.protobuf.Timestamp") {
    reflection.SetInt64(&message, type.FindFieldByName("seconds"), 1000 + seed);
    reflection.SetInt32(&message, type.FindFieldByName("nanos"), 1500 * seed);
    return;
  }
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    if (field.containing_oneof() != nullptr) continue;
    const int value = seed * 31 + field.number();
    const int count = field.is_repeated() ? 2 : 1;
    for (int element = 0; element < count; ++element) {
      const int v = value + element;
      if (field.is_map()) {
        google::protobuf::Message* entry = reflection.AddMessage(&message, &field);
        fill_every_field(*entry, v, depth);
        continue;
      }
      switch (field.cpp_type()) {
#define CHAOS_SET(CPP, SETTER, ADDER, EXPR)                                            \
  case FieldDescriptor::CPP:                                                          \
    if (field.is_repeated()) reflection.ADDER(&message, &field, EXPR);                \
    else reflection.SETTER(&message, &field, EXPR);                                   \
    break;
        CHAOS_SET(CPPTYPE_INT32, SetInt32, AddInt32, -v)
        CHAOS_SET(CPPTYPE_INT64, SetInt64, AddInt64, -(std::int64_t{1} << 40) - v)
        CHAOS_SET(CPPTYPE_UINT32, SetUInt32, AddUInt32, static_cast<std::uint32_t>(v))
        CHAOS_SET(CPPTYPE_UINT64, SetUInt64, AddUInt64, (std::uint64_t{1} << 63) + static_cast<std::uint64_t>(v))
        CHAOS_SET(CPPTYPE_DOUBLE, SetDouble, AddDouble, v + 0.25)
        CHAOS_SET(CPPTYPE_FLOAT, SetFloat, AddFloat, static_cast<float>(v) + 0.5f)
        CHAOS_SET(CPPTYPE_BOOL, SetBool, AddBool, true)
        CHAOS_SET(CPPTYPE_STRING, SetString, AddString, "s" + std::to_string(v) + " \"\xc3\xa9")
        CHAOS_SET(CPPTYPE_ENUM, SetEnumValue, AddEnumValue,
                  field.enum_type()->value(field.enum_type()->value_count() - 1)->number())
#undef CHAOS_SET
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (depth <= 0) break;
          fill_every_field(field.is_repeated() ? *reflection.AddMessage(&message, &field)
                                               : *reflection.MutableMessage(&message, &field),
                           v, depth - 1);
          break;
      }
    }
  }
}

// Every fault kind with every field set (and the request around it) sums up
// as protobuf's own printer prints it.
TEST(AuditLogTest, RequestSummaryOfEveryFaultKindIsTheProtoJsonMapping) {
  const auto& spec_type = *v1::FaultSpec::descriptor();
  ASSERT_GT(spec_type.field_count(), 20);
  for (int i = 0; i < spec_type.field_count(); ++i) {
    const auto& kind = *spec_type.field(i);
    if (kind.containing_oneof() == nullptr || kind.message_type() == nullptr) continue;
    v1::InjectRequest inject;
    fill_every_field(inject, i, 3);
    fill_every_field(*inject.mutable_spec()->GetReflection()->MutableMessage(inject.mutable_spec(), &kind), i, 4);
    EXPECT_EQ(summary_of(inject), printed_by_protobuf(inject)) << kind.name();
  }
  for (const auto* type : {v1::CapabilitiesRequest::descriptor(), v1::RevertRequest::descriptor(),
                           v1::RevertAllRequest::descriptor(), v1::ListRequest::descriptor(),
                           v1::RenewLeaseRequest::descriptor()}) {
    std::unique_ptr<google::protobuf::Message> request(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
    fill_every_field(*request, 7, 3);
    EXPECT_EQ(summary_of(*request), printed_by_protobuf(*request)) << type->full_name();
  }
  v1::Fault fault;
  fill_every_field(fault, 3, 3);
  EXPECT_EQ(summary_of(fault), printed_by_protobuf(fault));
}

// Wire bytes protobuf's own serializer would not write, but a caller's
// unknown fields or another encoder may: what each becomes, written out.
TEST(AuditLogTest, RequestSummaryReadsTheWireAsProtobufDoes) {
  const MessageSchema& scope = *service_schema().message("chaos.v1.NetworkScope");
  const auto bytes = [](std::initializer_list<int> values) {
    std::string wire;
    for (const int value : values) wire += static_cast<char>(value);
    return wire;
  };
  // ports (4) unpacked, then interface (1), then ports packed: one list.
  EXPECT_EQ(request_summary(scope, bytes({0x20, 80, 0x0a, 1, 'e', 0x22, 3, 81, 0xac, 0x02})),
            (nlohmann::json{{"interface", "e"}, {"ports", {80, 81, 300}}}));
  // protocol (5): -1 as the ten-byte varint protobuf writes, and a number
  // the enum lacks.
  EXPECT_EQ(request_summary(scope, bytes({0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})),
            (nlohmann::json{{"protocol", -1}}));
  EXPECT_EQ(request_summary(scope, bytes({0x28, 7})), (nlohmann::json{{"protocol", 7}}));
  EXPECT_EQ(request_summary(scope, bytes({0x28, 3})), (nlohmann::json{{"protocol", "PROTOCOL_ICMP"}}));
  // destination_cidrs (2) as a varint is not that field: left out whole.
  EXPECT_EQ(request_summary(scope, bytes({0x10, 5})), nlohmann::json::object());
  // An unknown group (field 9) is skipped, not taken for bad bytes.
  EXPECT_EQ(request_summary(scope, bytes({0x4b, 0x08, 0x01, 0x4c, 0x0a, 1, 'x'})),
            (nlohmann::json{{"interface", "x"}}));
  // A map entry without its value has the value's default.
  const MessageSchema& fault = *test_schema().message("chaos.v1.Fault");
  EXPECT_EQ(request_summary(fault, bytes({0xb2, 0x01, 3, 0x0a, 1, 'k'})),
            (nlohmann::json{{"counters", {{"k", "0"}}}}));
}

// Empty elements cost two bytes each on the wire; the summary is still
// bounded (each message and element is charged).
TEST(AuditLogTest, RequestSummaryOfManyEmptyElementsIsBounded) {
  v1::InjectRequest inject;
  auto& headers = *inject.mutable_spec()->mutable_http_headers();
  for (int i = 0; i < 100000; ++i) headers.add_request_headers();
  const nlohmann::json summary = summary_of(inject);
  EXPECT_LE(summary.dump().size(), 8u * 1024);
  EXPECT_EQ(summary["(truncated)"], true);
}

// The agent names effect states in its audit detail from this table, not
// protobuf's EffectState_Name (which reads the descriptors on every call).
TEST(AuditLogTest, EnumSchemaNamesAsProtobufDoes) {
  const EnumSchema names = EnumSchema::of(*v1::EffectState_descriptor());
  const auto& type = *v1::EffectState_descriptor();
  ASSERT_GT(type.value_count(), 2);
  for (int i = 0; i < type.value_count(); ++i) {
    const int number = type.value(i)->number();
    EXPECT_EQ(names.name_of(number), v1::EffectState_Name(static_cast<v1::EffectState>(number)));
  }
  EXPECT_EQ(names.name_of(12345), "12345");
}

TEST(AuditLogTest, TheServiceSchemaKnowsEachMethodsRequest) {
  const auto& service = *google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      v1::Agent::service_full_name());
  ASSERT_GE(service.method_count(), 6);
  for (int i = 0; i < service.method_count(); ++i) {
    const MessageSchema* request = service_schema().request_of(service.method(i)->name());
    ASSERT_NE(request, nullptr) << service.method(i)->name();
    EXPECT_EQ(request->full_name, service.method(i)->input_type()->full_name());
  }
  EXPECT_EQ(service_schema().request_of("NoSuchMethod"), nullptr);
}

// Fields a newer client sends that this agent does not know are left out
// (protobuf's printer leaves them out too); bytes that do not parse end the
// summary, marked.
TEST(AuditLogTest, RequestSummaryLeavesOutUnknownFieldsAndMarksBadBytes) {
  v1::InjectRequest inject;
  inject.set_experiment_id("e1");
  inject.mutable_duration()->set_seconds(3);
  std::string wire = inject.SerializeAsString();
  wire += std::string("\xf8\x06\x2a", 3);  // field 111, varint 42: unknown
  v1::InjectRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  const MessageSchema& type = *service_schema().request_of("Inject");
  EXPECT_EQ(request_summary(type, parsed), printed_by_protobuf(inject));
  EXPECT_EQ(request_summary(type, wire), printed_by_protobuf(inject));

  const nlohmann::json cut = request_summary(type, wire.substr(0, wire.size() - 1));
  EXPECT_EQ(cut["(truncated)"], true);
  EXPECT_EQ(cut["experiment_id"], "e1");
  EXPECT_EQ(request_summary(type, std::string("\x0a\xff", 2))["(truncated)"], true);
}

// The audit log's request summary is protobuf's own JSON mapping, built
// without text in between: scalars of every width, enums, oneofs set to
// their default, repeated and map fields, Duration and Timestamp.
TEST(AuditLogTest, RequestSummaryIsTheProtoJsonMapping) {
  v1::InjectRequest inject;
  inject.set_experiment_id("e1 \"quoted\" \xc3\xa9");
  inject.mutable_lease_ttl()->set_seconds(1);
  inject.mutable_lease_ttl()->set_nanos(500000000);
  inject.mutable_duration()->set_seconds(60);
  inject.set_dry_run(true);
  inject.set_verify(v1::VERIFY_MODE_BEST_EFFORT);
  auto& delay = *inject.mutable_spec()->mutable_network_delay();
  delay.mutable_delay()->set_nanos(1500);
  delay.set_distribution(v1::NetworkDelay::DISTRIBUTION_PARETO);
  delay.set_correlation_percent(12.5);
  delay.mutable_scope()->add_destination_cidrs("10.0.0.0/8");
  delay.mutable_scope()->add_destination_cidrs("fd00::/8");
  delay.mutable_scope()->add_ports(80);
  delay.mutable_scope()->add_ports(4222);
  EXPECT_EQ(summary_of(inject), printed_by_protobuf(inject));

  v1::InjectRequest fill;
  fill.mutable_spec()->mutable_disk_fill()->set_path("/tmp/x");
  fill.mutable_spec()->mutable_disk_fill()->set_leave_bytes(0);  // a oneof member at its default
  EXPECT_EQ(summary_of(fill), printed_by_protobuf(fill));
  fill.mutable_spec()->mutable_disk_fill()->set_leave_bytes(18446744073709551615ULL);
  EXPECT_EQ(summary_of(fill), printed_by_protobuf(fill));

  v1::InjectRequest pause;
  pause.mutable_spec()->mutable_process_pause()->mutable_target()->set_pid(-7);
  pause.mutable_spec()->mutable_process_pause()->mutable_target()->set_percent(33.3);
  EXPECT_EQ(summary_of(pause), printed_by_protobuf(pause));

  v1::Fault fault;  // not a request, but maps and timestamps
  (*fault.mutable_counters())["packets_delayed"] = 42;
  (*fault.mutable_counters())["bytes"] = 1ULL << 40;
  fault.mutable_applied_at()->set_seconds(1764763200);
  fault.mutable_applied_at()->set_nanos(123000000);
  fault.set_state(v1::FAULT_STATE_REVERT_FAILED);
  EXPECT_EQ(summary_of(fault), printed_by_protobuf(fault));
  EXPECT_EQ(summary_of(v1::RevertRequest{}), nlohmann::json::object());
}

// protobuf's printer overflows on INT64_MIN seconds and prints "--5s" for
// mixed signs: such Durations (and out-of-range Timestamps) are shown raw.
TEST(AuditLogTest, RequestSummaryShowsInvalidDurationsRaw) {
  v1::InjectRequest inject;
  inject.mutable_lease_ttl()->set_seconds(-5);
  inject.mutable_lease_ttl()->set_nanos(1);
  inject.mutable_duration()->set_seconds(std::numeric_limits<std::int64_t>::min());
  const nlohmann::json summary = summary_of(inject);
  EXPECT_EQ(summary["lease_ttl"], (nlohmann::json{{"seconds", "-5"}, {"nanos", 1}}));
  EXPECT_EQ(summary["duration"], (nlohmann::json{{"seconds", "-9223372036854775808"}, {"nanos", 0}}));
  inject.mutable_lease_ttl()->set_nanos(-1);  // valid again: same sign
  EXPECT_EQ(summary_of(inject)["lease_ttl"], "-5.000000001s");

  v1::Fault fault;
  fault.mutable_applied_at()->set_seconds(std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(summary_of(fault)["applied_at"],
            (nlohmann::json{{"seconds", "9223372036854775807"}, {"nanos", 0}}));
}

// A huge request becomes a small summary while it is built, not after.
TEST(AuditLogTest, RequestSummaryIsBoundedWhileBuilt) {
  v1::InjectRequest inject;
  inject.set_experiment_id(std::string(256 * 1024, 'x'));
  auto& scope = *inject.mutable_spec()->mutable_network_delay()->mutable_scope();
  for (int i = 0; i < 20000; ++i) scope.add_ports(static_cast<std::uint32_t>(i % 65536));
  const nlohmann::json summary = summary_of(inject);
  EXPECT_LE(summary.dump().size(), 8u * 1024) << "bounded near 4 KiB of output";
  EXPECT_EQ(summary["(truncated)"], true);
  EXPECT_LT(summary["experiment_id"].get<std::string>().size(), 8u * 1024);

  v1::InjectRequest small;
  small.set_experiment_id("e1");
  EXPECT_FALSE(summary_of(small).contains("(truncated)"));
}

TEST(AuditLogTest, TrailCountsEachEvent) {
  struct Memory : AuditSink {
    std::vector<AuditRecord> records;
    bool record(const AuditRecord& record) override {
      records.push_back(record);
      return true;
    }
  } memory;
  std::vector<std::string> counted;
  AuditTrail trail(memory, [&](const std::string& rpc, const std::string& result) { counted.push_back(rpc + "/" + result); });
  trail.record(sample_record());
  ASSERT_EQ(memory.records.size(), 1u);
  EXPECT_EQ(counted, std::vector<std::string>{"Inject/ok"});
}

// A file that cannot grow (as on a full disk; here the file size limit,
// which needs no root): record() says the line is not wholly in the log,
// and the trail counts it as lost instead of as an event.
TEST(AuditLogTest, AFailedWriteIsReportedAndCountedLost) {
  const fs::path dir = temp_dir("audit-full");
  auto sink = FileAuditSink::open((dir / "audit.log").string(), FileAuditSink::kDefaultMaxBytes,
                                  std::chrono::hours(1));
  ASSERT_TRUE(sink.ok()) << sink.status().message();
  std::vector<std::string> counted;
  std::vector<std::string> lost;
  AuditTrail trail(
      **sink, [&](const std::string& rpc, const std::string& result) { counted.push_back(rpc + "/" + result); },
      [&](const std::string& rpc) { lost.push_back(rpc); });
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &before), 0);
  const auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = before;
  small.rlim_cur = 16;  // a record is longer: a short write
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const bool written = (*sink)->record(sample_record());
  trail.record(sample_record());
  ::setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, previous_handler);
  EXPECT_FALSE(written);
  EXPECT_TRUE(counted.empty());
  EXPECT_EQ(lost, std::vector<std::string>{"Inject"});
  trail.record(sample_record());  // the limit is back: written and counted
  EXPECT_EQ(counted, std::vector<std::string>{"Inject/ok"});
  sink->reset();
  // The cut record is a line of its own: the whole one after it parses.
  std::ifstream log(dir / "audit.log");
  std::vector<std::string> lines;
  for (std::string text; std::getline(log, text);) lines.push_back(text);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), 16u);
  EXPECT_EQ(nlohmann::json::parse(lines[1], nullptr, false)["rpc"], "Inject") << lines[1];
  fs::remove_all(dir);
}

TEST(OsCapabilitiesTest, MissingAreTheNeededOnesTheMaskLacks) {
  constexpr std::uint64_t kKill = 1ULL << 5;
  constexpr std::uint64_t kNetAdmin = 1ULL << 12;
  constexpr std::uint64_t kNetRaw = 1ULL << 13;
  constexpr std::uint64_t kSysAdmin = 1ULL << 21;
  const std::vector<std::string> network = {"CAP_NET_ADMIN", "CAP_NET_RAW"};
  EXPECT_TRUE(missing_capabilities_for({"CAP_KILL"}, kKill).empty());
  EXPECT_EQ(missing_capabilities_for({"CAP_KILL"}, kNetAdmin), std::vector<std::string>{"CAP_KILL"});
  EXPECT_EQ(missing_capabilities_for(network, kNetAdmin), std::vector<std::string>{"CAP_NET_RAW"});
  EXPECT_TRUE(missing_capabilities_for(network, kNetAdmin | kNetRaw).empty());
  EXPECT_TRUE(missing_capabilities_for({}, 0).empty()) << "a kind that needs nothing is always offered";
  // Any capability Linux knows, not only today's kinds' ones.
  EXPECT_TRUE(missing_capabilities_for({"CAP_SYS_ADMIN"}, kSysAdmin).empty());
  EXPECT_EQ(missing_capabilities_for({"CAP_SYS_ADMIN"}, kKill), std::vector<std::string>{"CAP_SYS_ADMIN"});
  EXPECT_EQ(missing_capabilities_for({"CAP_NO_SUCH"}, ~0ULL), std::vector<std::string>{"CAP_NO_SUCH"});
}

TEST(AgentConfigTlsTest, TlsTableNeedsAllThreeFiles) {
  auto config = parse_agent_config("[tls]\ncert = \"a.crt\"\nkey = \"a.key\"\nclient_ca = \"ca.crt\"\n"
                                   "token_file = \"t\"\n", "agent.toml");
  // token_file inside [tls] is a typo: unknown key.
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("agent.toml:"), std::string::npos);
  config = parse_agent_config("token_file = \"t\"\ninsecure_plaintext_on_non_loopback = true\n[tls]\n"
                              "cert = \"a.crt\"\nkey = \"a.key\"\nclient_ca = \"ca.crt\"\n", "agent.toml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->tls.client_ca, "ca.crt");
  EXPECT_EQ(config->token_file, "t");
  EXPECT_TRUE(config->insecure_plaintext_on_non_loopback);
  config = parse_agent_config("[tls]\ncert = \"a.crt\"\n", "agent.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("agent.toml:1:1: tls:"), std::string::npos) << config.status().message();
  EXPECT_NE(config.status().message().find("--tls-client-ca"), std::string::npos);
}

}  // namespace
}  // namespace chaos::agent
