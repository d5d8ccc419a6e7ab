#include "lab/testbed/agent_test_bed.h"

#include <csignal>
#include <filesystem>
#include <fstream>

namespace chaos::agent::integration {

namespace {

std::vector<std::string> netns_prefix(const std::string& netns, const std::vector<std::string>& environment) {
  std::vector<std::string> prefix = {"/usr/bin/env"};
  prefix.insert(prefix.end(), environment.begin(), environment.end());
  for (const char* part : {"ip", "netns", "exec"}) prefix.emplace_back(part);
  prefix.push_back(netns);
  return prefix;
}

}  // namespace

// ------------------------------------------------------------ TempDir

TempDir::TempDir(const std::string& name) : path_(std::filesystem::temp_directory_path() / name) {
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

// ------------------------------------------------------------ NamespacedAgent

NamespacedAgent::NamespacedAgent(std::string netns, std::string state_dir, std::string log_file,
                                 std::vector<std::string> environment, std::vector<std::string> flags)
    : netns_(netns),
      process_(std::move(state_dir), std::move(log_file), std::move(flags), netns_prefix(netns, environment)) {}

bool NamespacedAgent::start() {
  if (!process_.start()) return false;
  bridge_ = std::make_unique<LoopbackBridge>(netns_, process_.grpc_port());
  if (!bridge_->error().empty()) return false;
  stub_ = v1::Agent::NewStub(new_channel());
  return true;
}

int NamespacedAgent::stop() {
  stub_.reset();
  bridge_.reset();
  return process_.stop_with(SIGTERM);
}

std::shared_ptr<grpc::Channel> NamespacedAgent::new_channel() const {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(bridge_->address(), grpc::InsecureChannelCredentials(), arguments);
}

grpc::Status NamespacedAgent::inject(const v1::InjectRequest& request, v1::InjectResponse* response,
                                     std::chrono::seconds deadline) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  return stub_->Inject(&context, request, response);
}

grpc::Status NamespacedAgent::revert(const std::string& fault_id, v1::RevertResponse* response,
                                     std::chrono::seconds deadline) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  v1::RevertRequest request;
  request.set_fault_id(fault_id);
  v1::RevertResponse ignored;
  return stub_->Revert(&context, request, response ? response : &ignored);
}

grpc::Status NamespacedAgent::list(v1::ListResponse* response, bool include_ended) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::ListRequest request;
  request.set_include_ended(include_ended);
  return stub_->List(&context, request, response);
}

// ------------------------------------------------------------ AgentTestBed

AgentTestBed::AgentTestBed(const std::string& instance) : network_(instance) {
  // The agents here are SIGKILLed at arbitrary points, so any pipe or socket
  // this process shares with one can close under a write: that write must
  // fail with EPIPE, not kill the test process with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  if (!network_.ok()) {
    error_ = "could not build the namespaces " + network_.a() + ", " + network_.b() + ", " + network_.c();
    return;
  }
  // dns.fail reads the upstream from resolv.conf at apply time; inside
  // `ip netns exec A` that is this file. B has no resolver: the fault's
  // forwarding never gets an answer, and nothing leaves the bed.
  resolv_dir_ = "/etc/netns/" + network_.a();
  std::error_code error;
  std::filesystem::create_directories(resolv_dir_, error);
  std::ofstream(resolv_dir_ + "/resolv.conf") << "nameserver " << chaos::testing::kAddressB
                                              << "\noptions timeout:1 attempts:1\n";
  if (error) error_ = "creating " + resolv_dir_ + ": " + error.message();
}

AgentTestBed::~AgentTestBed() {
  if (resolv_dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(resolv_dir_, ignored);
}

StatusOr<chaos::testing::NodeStateSnapshot> AgentTestBed::snapshot(const std::vector<pid_t>& processes) {
  return chaos::testing::NodeStateSnapshot::capture(commands_, {network_.a(), processes});
}

std::string AgentTestBed::diff_from(const chaos::testing::NodeStateSnapshot& baseline,
                                    const std::vector<pid_t>& processes) {
  auto now = snapshot(processes);
  if (!now.ok()) return "cannot capture the node state: " + now.status().to_string();
  return chaos::testing::diff_node_states(baseline, *now);
}

// ------------------------------------------------------------ specs

v1::InjectRequest inject_request(const v1::FaultSpec& spec, const std::string& experiment, int duration_seconds) {
  v1::InjectRequest request;
  request.set_experiment_id(experiment);
  request.mutable_duration()->set_seconds(duration_seconds);
  *request.mutable_spec() = spec;
  return request;
}

v1::NetworkScope network_scope(const std::string& interface, const std::vector<std::string>& destination_cidrs,
                               const std::vector<int>& ports) {
  v1::NetworkScope scope;
  scope.set_interface(interface);
  for (const auto& cidr : destination_cidrs) scope.add_destination_cidrs(cidr);
  for (int port : ports) scope.add_ports(static_cast<std::uint32_t>(port));
  return scope;
}

v1::FaultSpec delay_spec(const v1::NetworkScope& scope, int milliseconds) {
  v1::FaultSpec spec;
  spec.mutable_network_delay()->mutable_delay()->set_nanos(milliseconds * 1'000'000);
  *spec.mutable_network_delay()->mutable_scope() = scope;
  return spec;
}

v1::FaultSpec loss_spec(const v1::NetworkScope& scope, double percent) {
  v1::FaultSpec spec;
  spec.mutable_network_loss()->set_percent(percent);
  *spec.mutable_network_loss()->mutable_scope() = scope;
  return spec;
}

v1::FaultSpec partition_spec(const std::vector<std::string>& cidrs, const v1::NetworkScope& narrowing) {
  v1::FaultSpec spec;
  for (const auto& cidr : cidrs) spec.mutable_network_partition()->add_cidrs(cidr);
  if (narrowing.ByteSizeLong() > 0) *spec.mutable_network_partition()->mutable_scope() = narrowing;
  return spec;
}

v1::FaultSpec bandwidth_spec(const v1::NetworkScope& scope, std::uint64_t bits_per_second) {
  v1::FaultSpec spec;
  spec.mutable_network_bandwidth()->set_rate_bits_per_second(bits_per_second);
  *spec.mutable_network_bandwidth()->mutable_scope() = scope;
  return spec;
}

v1::FaultSpec duplicate_spec(const v1::NetworkScope& scope, double percent) {
  v1::FaultSpec spec;
  spec.mutable_network_duplicate()->set_percent(percent);
  *spec.mutable_network_duplicate()->mutable_scope() = scope;
  return spec;
}

v1::FaultSpec reorder_spec(const v1::NetworkScope& scope, double percent, int delay_milliseconds) {
  v1::FaultSpec spec;
  spec.mutable_network_reorder()->set_percent(percent);
  spec.mutable_network_reorder()->mutable_delay()->set_nanos(delay_milliseconds * 1'000'000);
  *spec.mutable_network_reorder()->mutable_scope() = scope;
  return spec;
}

v1::FaultSpec dns_fail_spec(const std::string& pattern) {
  v1::FaultSpec spec;
  spec.mutable_dns()->add_patterns(pattern);
  spec.mutable_dns()->set_mode(v1::DnsFault::MODE_NXDOMAIN);
  return spec;
}

v1::FaultSpec kill_spec(pid_t pid) {
  v1::FaultSpec spec;
  spec.mutable_process_kill()->mutable_target()->set_pid(pid);
  return spec;
}

v1::FaultSpec pause_spec(pid_t pid) {
  v1::FaultSpec spec;
  spec.mutable_process_pause()->mutable_target()->set_pid(pid);
  return spec;
}

long proc_status_value(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  const std::string prefix = field + ":";
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(prefix, 0) == 0) return std::stol(line.substr(prefix.size()));
  }
  return -1;
}

}  // namespace chaos::agent::integration
