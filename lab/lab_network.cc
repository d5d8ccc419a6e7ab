#include "lab/lab_network.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <re2/re2.h>

#include "lab/lab_files.h"

namespace chaos::lab {

namespace fs = std::filesystem;

namespace {

// First whitespace-separated token of each line, without an "@peer" suffix
// (`ip -br link` prints veths as "name@ifN").
std::vector<std::string> first_tokens(const std::string& output) {
  std::vector<std::string> tokens;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string word;
    if (!(words >> word)) continue;
    if (auto at = word.find('@'); at != std::string::npos) word.resize(at);
    tokens.push_back(word);
  }
  return tokens;
}

// The lab's prefix is validated ([a-z][a-z0-9]*), quoted anyway.
std::string regex_quoted(const std::string& prefix) { return RE2::QuoteMeta(prefix); }

std::vector<std::string> matching(const std::vector<std::string>& names, const RE2& pattern) {
  std::vector<std::string> result;
  for (const auto& name : names) {
    if (RE2::FullMatch(name, pattern)) result.push_back(name);
  }
  return result;
}

}  // namespace

std::vector<std::string> lab_namespaces_in(const std::string& output, const std::string& prefix) {
  return matching(first_tokens(output), RE2(regex_quoted(prefix) + "-n[0-9]+"));
}

std::vector<std::string> lab_links_in(const std::string& output, const std::string& prefix) {
  return matching(first_tokens(output), RE2(regex_quoted(prefix) + "(0|-v[0-9]+)"));
}

Status LabNetwork::run(const std::vector<std::string>& argv) {
  auto result = runner_.run_checked(argv);
  return result.ok() ? Status{} : result.status();
}

Status LabNetwork::create() {
  CHAOS_RETURN_IF_ERROR(create_bridge());
  for (int node = 1; node <= layout_.node_count(); ++node) {
    CHAOS_RETURN_IF_ERROR(create_node(node));
  }
  return {};
}

Status LabNetwork::create_bridge() {
  const std::string bridge = layout_.bridge();
  CHAOS_RETURN_IF_ERROR(run({"ip", "link", "add", bridge, "type", "bridge"}));
  CHAOS_RETURN_IF_ERROR(run({"ip", "addr", "add", layout_.bridge_ip() + "/24", "dev", bridge}));
  return run({"ip", "link", "set", bridge, "up"});
}

Status LabNetwork::create_node(int node) {
  const std::string ns = layout_.netns(node);
  const std::string link = layout_.host_link(node);
  CHAOS_RETURN_IF_ERROR(run({"ip", "netns", "add", ns}));
  CHAOS_RETURN_IF_ERROR(run({"ip", "link", "add", link, "type", "veth", "peer", "name", kNodeInterface,
                             "netns", ns}));
  CHAOS_RETURN_IF_ERROR(run({"ip", "link", "set", link, "master", layout_.bridge()}));
  CHAOS_RETURN_IF_ERROR(run({"ip", "link", "set", link, "up"}));
  CHAOS_RETURN_IF_ERROR(run({"ip", "-n", ns, "addr", "add", layout_.node_ip(node) + "/24", "dev",
                             kNodeInterface}));
  CHAOS_RETURN_IF_ERROR(run({"ip", "-n", ns, "link", "set", kNodeInterface, "up"}));
  CHAOS_RETURN_IF_ERROR(run({"ip", "-n", ns, "link", "set", "lo", "up"}));
  // No default route on purpose: a node reaches the lab subnet and nothing else.
  return write_resolv_conf(node);
}

Status LabNetwork::write_resolv_conf(int node) {
  const fs::path dir = layout_.netns_etc_dir(node);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return internal_error("cannot create " + dir.string() + ": " + error.message());
  std::ofstream out(dir / "resolv.conf", std::ios::trunc);
  out << render_resolv_conf(layout_);
  if (!out.flush()) return internal_error("cannot write " + (dir / "resolv.conf").string());
  return {};
}

StatusOr<std::vector<std::string>> LabNetwork::existing_namespaces() {
  CHAOS_ASSIGN_OR_RETURN(auto result, runner_.run_checked({"ip", "netns", "list"}));
  return lab_namespaces_in(result.stdout_text, layout_.params().prefix);
}

StatusOr<std::vector<std::string>> LabNetwork::existing_links() {
  CHAOS_ASSIGN_OR_RETURN(auto result, runner_.run_checked({"ip", "-br", "link", "show"}));
  return lab_links_in(result.stdout_text, layout_.params().prefix);
}

StatusOr<std::vector<int>> LabNetwork::namespace_pids(const std::string& netns) {
  CHAOS_ASSIGN_OR_RETURN(auto result, runner_.run_checked({"ip", "netns", "pids", netns}));
  std::vector<int> pids;
  std::istringstream words(result.stdout_text);
  int pid = 0;
  while (words >> pid) pids.push_back(pid);
  return pids;
}

// A veth's host end vanishes shortly after its namespace is deleted, so
// "Cannot find device" means someone got there first: success.
Status LabNetwork::delete_link(const std::string& link) {
  CHAOS_ASSIGN_OR_RETURN(auto result, runner_.run({"ip", "link", "del", link}));
  if (result.exit_code == 0 || result.stderr_text.find("Cannot find device") != std::string::npos) return {};
  return internal_error("`ip link del " + link + "` exited with " + std::to_string(result.exit_code) + ": " +
                        result.stderr_text);
}

Status LabNetwork::destroy() {
  Status first_error;
  auto remember = [&first_error](const Status& status) {
    if (!status.ok() && first_error.ok()) first_error = status;
  };
  auto namespaces = existing_namespaces();
  remember(namespaces.status());
  // Deleting a namespace removes the veth end inside it, and with it the
  // host end; links are listed afterwards so only true leftovers remain.
  if (namespaces.ok()) {
    for (const auto& ns : *namespaces) remember(run({"ip", "netns", "del", ns}));
  }
  auto links = existing_links();
  remember(links.status());
  if (links.ok()) {
    for (const auto& link : *links) remember(delete_link(link));
  }
  std::error_code error;
  const RE2 netns_dir(regex_quoted(layout_.params().prefix) + "-n[0-9]+");
  for (const auto& entry : fs::directory_iterator(layout_.params().netns_etc_root, error)) {
    const std::string name = entry.path().filename().string();
    if (RE2::FullMatch(name, netns_dir)) {
      fs::remove_all(entry.path(), error);
      if (error) remember(internal_error("cannot remove " + entry.path().string() + ": " + error.message()));
    }
  }
  return first_error;
}

}  // namespace chaos::lab
