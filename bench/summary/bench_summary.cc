// Aggregates the benchmarks' JSON outputs into summary.json + summary.md.
//   bench_summary breach JOURNAL       -> breach timing JSON on stdout
//   bench_summary summarize DIR        -> DIR/summary.json, DIR/summary.md
// A missing or skipped benchmark is listed as "skipped: reason", never
// silently left out.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "bench/support/journal_timing.h"
#include "bench/support/json_out.h"

namespace {

using nlohmann::json;

json load(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  if (!in) return {{"benchmark", name}, {"skipped", "no result file " + path + " (benchmark not run)"}};
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return {{"benchmark", name}, {"skipped", "unreadable result file " + path}};
  }
  return parsed;
}

std::string number(const json& value, int decimals = 2) {
  if (!value.is_number()) return "n/a";
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << value.get<double>();
  return out.str();
}

std::string at(const json& object, std::initializer_list<const char*> path, int decimals = 2) {
  const json* node = &object;
  for (const char* key : path) {
    if (!node->is_object() || !node->contains(key)) return "n/a";
    node = &(*node)[key];
  }
  return number(*node, decimals);
}

bool skipped(std::ostream& md, const json& result) {
  if (!result.contains("skipped")) return false;
  md << "skipped: " << result["skipped"].get<std::string>() << "\n\n";
  return true;
}

void fanout_ratios(json& fanout) {
  if (!fanout.contains("rows") || fanout["rows"].empty()) return;
  // Each path (async / sync) and kind of agent (process / light) against
  // its own first (smallest) fleet.
  std::map<std::string, json> firsts;
  for (auto& row : fanout["rows"]) {
    const std::string series = row.value("path", "sync") + "/" + row.value("agents_kind", "process");
    const json& first = firsts.emplace(series, row).first->second;
    for (const char* key : {"inject_ms", "revert_ms"}) {
      const auto ratio = chaos::bench::ratio(row[key]["p50"].get<double>(), first[key]["p50"].get<double>());
      row[std::string(key) + "_p50_ratio_to_first"] = chaos::bench::optional_number(ratio);
    }
  }
}

void fanout_md(std::ostream& md, json& fanout) {
  md << "## Inject / revert fan-out (AgentPool -> N local chaos-agents)\n\n";
  if (skipped(md, fanout)) return;
  if (!fanout.contains("rows") || fanout["rows"].empty()) {
    md << "skipped: the fan-out benchmark produced no rows\n\n";
    return;
  }
  fanout_ratios(fanout);
  md << "process.pause of one `sleep` per agent, plaintext gRPC on 127.0.0.1; p50/p99 over "
     << fanout["rows"][0].value("repetitions", 0) << " rounds; ratio = p50 / p50 of the smallest fleet of the "
     << "same path and agent kind. Path async: the run's batch calls on one completion queue; sync: blocking "
     << "calls on at most 16 threads (before issue 17). Light agents: in-process gRPC servers that answer at "
     << "once (fleets too large for real agent processes on this machine).\n\n"
     << "| agents | kind | path | inject p50 ms | inject p99 ms | revert p50 ms | revert p99 ms | inject ratio | "
        "revert ratio | failed calls |\n|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : fanout["rows"]) {
    md << "| " << row["agents"] << " | " << row.value("agents_kind", "process") << " | " << row.value("path", "sync")
       << " | " << at(row, {"inject_ms", "p50"}) << " | " << at(row, {"inject_ms", "p99"})
       << " | " << at(row, {"revert_ms", "p50"}) << " | " << at(row, {"revert_ms", "p99"}) << " | "
       << at(row, {"inject_ms_p50_ratio_to_first"}) << " | " << at(row, {"revert_ms_p50_ratio_to_first"}) << " | "
       << row["failures"] << " |\n";
  }
  md << "\n";
}

// network_bench --delay-only / --throughput-only leave sections out.
bool measured(std::ostream& md, const json& network, const char* section) {
  if (network.contains(section) && network[section].is_object()) return true;
  md << "not measured in this run (network_bench ran with --delay-only or --throughput-only)\n\n";
  return false;
}

void delay_md(std::ostream& md, const json& delay) {
  md << "Baseline RTT (same run, no fault, before the faults): p50 " << at(delay, {"baseline_rtt_ms", "p50"}, 3)
     << " ms, p99 " << at(delay, {"baseline_rtt_ms", "p99"}, 3)
     << " ms. Error = RTT - baseline p50 - requested. Side by side: the baseline is an echo port the delay does "
        "not cover, probed in turn with the delayed one in the same window (its p50 in the column), and the "
        "error is taken both as the probing thread reads the answer and to the answer's kernel timestamp on "
        "the sender, which leaves out how late that thread wakes. One-way error: the receiver's kernel "
        "timestamp - send time - baseline one-way p50 ("
     << at(delay, {"baseline_one_way_ms", "p50"}, 3) << " ms) - requested, which leaves out when the echo "
     << "threads get to run. Goal: |error p50| < 0.05 ms, error p99 < 0.2 ms.\n\n"
     << "| requested ms | jitter ms | backend | probes | added p50 ms | error p50 ms | error p99 ms | side-by-side "
        "baseline p50 ms | side-by-side error p50 / p99 ms | to the kernel's timestamp p50 / p99 ms | one-way "
        "error p50 ms | one-way error p99 ms | added/requested | stddev/jitter |\n"
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : delay["rows"]) {
    const json side = row.value("side_by_side", json::object());
    md << "| " << row["requested_ms"] << " | " << row["jitter_ms"] << " | " << row.value("backend", "") << " | "
       << row["answered"] << "/" << row["probes"] << " | " << at(row, {"added_ms", "p50"}, 3) << " | "
       << at(row, {"error_ms", "p50"}, 3) << " | " << at(row, {"error_ms", "p99"}, 3) << " | "
       << at(side, {"baseline_rtt_ms", "p50"}, 3) << " | " << at(side, {"error_ms", "p50"}, 3) << " / "
       << at(side, {"error_ms", "p99"}, 3) << " | " << at(side, {"to_kernel_error_ms", "p50"}, 3) << " / "
       << at(side, {"to_kernel_error_ms", "p99"}, 3) << " | " << at(row, {"one_way_error_ms", "p50"}, 3) << " | "
       << at(row, {"one_way_error_ms", "p99"}, 3) << " | " << at(row, {"added_over_requested"}, 3) << " | "
       << at(row, {"stddev_over_requested"}, 3) << " |\n";
  }
  md << "\n";
}

void loss_md(std::ostream& md, const json& loss) {
  md << "Baseline (no fault): " << loss["baseline"]["lost"] << " of "
     << loss["baseline"]["packets"] << " datagrams lost. Interval: 99 % Wilson interval of the measured rate.\n\n"
     << "| backend | requested % | datagrams | measured % | 99 % interval | requested inside | measured/requested "
        "|\n|---|---:|---:|---:|---|---|---:|\n";
  for (const auto& row : loss["rows"]) {
    md << "| " << row["backend"].get<std::string>() << " | " << number(row["requested_percent"], 1) << " | "
       << row["packets"] << " | " << number(row["measured_percent"], 2) << " | "
       << number(row["interval99_percent"][0], 2) << " - " << number(row["interval99_percent"][1], 2) << " | "
       << (row["requested_inside_interval"].get<bool>() ? "yes" : "no") << " | "
       << number(row["measured_over_requested"], 3) << " |\n";
  }
  md << "\n";
}

void throughput_md(std::ostream& md, const json& throughput) {
  md << "TCP A->B over a veth pair, "
     << number(throughput["seconds_per_case"], 1) << " s per case, in one run. Window bound = streams x "
     << at(throughput, {"tcp_window", "window_bytes"}, 0)
     << " bytes (min of tcp_wmem max and the usable tcp_rmem max, read in the run) / (delay + baseline RTT); "
        "goal at 10 ms: >= 0.70 of it. Engine ns and packets/s per core: the engine thread's CPU time per "
        "MTU-sized segment carried.\n\n"
     << "| case | streams | Mbit/s | ratio to no fault | window bound Mbit/s | ratio to bound | engine ns / segment "
        "| segments/s per engine core | process ns / segment |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : throughput["rows"]) {
    md << "| " << row["case"].get<std::string>() << " | " << row.value("streams", 1) << " | "
       << number(row["mbit_per_second"], 0) << " | " << number(row["ratio_to_no_fault"], 3) << " | "
       << at(row, {"window_bound_mbit_per_second"}, 0) << " | " << at(row, {"ratio_to_window_bound"}, 3) << " | "
       << at(row, {"cpu", "engine_thread_ns_per_segment"}, 0) << " | "
       << at(row, {"cpu", "engine_segments_per_core_second"}, 0) << " | "
       << at(row, {"cpu", "process_cpu_ns_per_segment"}, 0) << " |\n";
  }
  const json& added = throughput["added_latency"];
  md << "\nRTT added by a 0 ms engine fault: p50 " << at(added, {"added_p50_ms"}, 3) << " ms, p99 "
     << at(added, {"added_p99_ms"}, 3) << " ms (baseline p50 " << at(added, {"baseline_rtt_ms", "p50"}, 3)
     << " ms, through the engine p50 " << at(added, {"engine_0ms_rtt_ms", "p50"}, 3) << " ms).\n\n";
}

void network_md(std::ostream& md, const json& network) {
  md << "## Delay fidelity (network.delay)\n\n";
  if (skipped(md, network)) {
    md << "## Loss fidelity\n\nskipped: see above\n\n## NFQUEUE engine throughput and added latency\n\n"
          "skipped: see above\n\n";
    return;
  }
  if (measured(md, network, "delay")) delay_md(md, network["delay"]);
  md << "## Loss fidelity\n\n";
  if (measured(md, network, "loss")) loss_md(md, network["loss"]);
  md << "## NFQUEUE engine throughput and added latency\n\n";
  if (measured(md, network, "throughput")) throughput_md(md, network["throughput"]);
}

// The first 10 faults pay one-time costs (code paged back in); each
// further 10 show the steady cost. Both are reported, always.
void footprint_steps_md(std::ostream& md, const json& footprint) {
  md << "| step | RSS MiB | anon MiB | file MiB | threads |\n|---|---:|---:|---:|---:|\n";
  for (const auto& [label, key] : {std::pair{"first 10 faults add", "added_by_first_10"},
                                   std::pair{"further 10 (10 -> 20) add", "added_by_further_10"},
                                   std::pair{"all reverted, above idle", "left_after_revert"},
                                   std::pair{"10 again after the revert add", "added_by_10_after_revert"}}) {
    md << "| " << label << " | " << at(footprint, {key, "rss_mib"}, 2) << " | " << at(footprint, {key, "rss_anon_mib"}, 2)
       << " | " << at(footprint, {key, "rss_file_mib"}, 2) << " | " << at(footprint, {key, "threads"}, 0) << " |\n";
  }
  md << "\n";
}

void footprint_md(std::ostream& md, const json& footprint) {
  md << "## chaos-agent footprint\n\n";
  if (skipped(md, footprint)) return;
  md << "Same probe traffic (200 UDP echoes/s) in both windows: idle for "
     << number(footprint.value("idle_window_seconds", footprint["window_seconds"]), 0) << " s, then "
     << footprint["live_faults"] << " live faults for " << number(footprint["window_seconds"], 0) << " s.\n\n"
     << "| state | RSS MiB | of it anon MiB | of it file MiB | peak RSS MiB | threads | CPU % of one core |\n"
     << "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [label, key] : {std::pair{"idle", "idle"}, std::pair{"10 live faults", "faults"}}) {
    md << "| " << label << " | " << at(footprint, {key, "rss_mib"}, 1) << " | "
       << at(footprint, {key, "rss_anon_mib"}, 1) << " | " << at(footprint, {key, "rss_file_mib"}, 1) << " | "
       << at(footprint, {key, "hwm_mib"}, 1) << " | " << at(footprint, {key, "threads"}, 0) << " | "
       << at(footprint, {key, "cpu_percent_of_one_core"}, 3) << " |\n";
  }
  md << "| added by the faults | " << at(footprint, {"rss_mib_added_by_faults"}, 1) << " | | | | "
     << at(footprint, {"threads_added_by_faults"}, 0) << " | |\n"
     << "| ratio | " << at(footprint, {"rss_mib_ratio"}, 2) << " | | | | | "
     << at(footprint, {"cpu_percent_of_one_core_ratio"}, 2) << " |\n\n";
  if (footprint.contains("added_by_further_10")) footprint_steps_md(md, footprint);
}

void soak_md(std::ostream& md, const json& soak) {
  md << "## chaos-agent soak\n\n";
  if (skipped(md, soak)) return;
  md << soak["clients"] << " concurrent clients (own gRPC channels), inject + revert cycles of network.delay, "
     << "network.loss, network.partition, dns.fail and process.pause; threads and RSS after "
     << soak["warmup_cycles"] << " warm-up cycles and at the end.\n\n"
     << "| cycles | seconds | cycles/s | failed calls | quiet points | leftovers | threads before | threads after | "
        "RSS MiB before | RSS MiB after |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
     << "| " << soak["cycles"] << " | " << at(soak, {"seconds"}, 1) << " | " << at(soak, {"cycles_per_second"}, 1)
     << " | " << soak["failed_calls"] << " | " << soak["quiet_points"] << " | " << soak["leftovers"].size() << " | "
     << soak["after_warmup"]["threads"] << " | " << soak["at_end"]["threads"] << " | "
     << at(soak, {"after_warmup", "rss_mib"}, 1) << " | " << at(soak, {"at_end", "rss_mib"}, 1) << " |\n\n";
}

// A reason in a table cell: no column breaks, no line breaks, bounded.
std::string cell(std::string text) {
  for (char& c : text) {
    if (c == '|' || c == '\n') c = '/';
  }
  return text.size() > 200 ? text.substr(0, 200) + "..." : text;
}

std::string effects(const json& row) {
  std::string result;
  if (!row.contains("effects")) return result;
  for (const auto& [state, count] : row["effects"].items()) {
    result += (result.empty() ? "" : ", ") + state + " " + count.dump();
  }
  return result;
}

void proof_md(std::ostream& md, const json& proof) {
  md << "## Proof of effect: time to effect and to gone per kind\n\n";
  if (skipped(md, proof)) return;
  const std::string goal = number(proof["goal_ms"], 0);
  md << "One client, sequential inject + revert of each kind, " << proof["repetitions"]
     << " cycles per kind, verify " << proof.value("verify", "?") << ". Inject / revert: the RPC as the client "
     << "sees it; effect / gone: the agent's time_to_effect (request received -> effect read back) and "
     << "time_to_gone (revert asked -> gone read back). Goal: p99 < " << goal << " ms. Times in ms.\n\n"
     << "| kind | cycles | inject p50 | inject p99 | effect p50 | effect p99 | effect max | revert p50 | revert p99 | "
        "gone p50 | gone p99 | gone max | effect seen | p99 < "
     << goal << " ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n";
  for (const auto& row : proof["kinds"]) {
    md << "| " << row.value("kind", "?") << " | ";
    if (row.contains("failed")) {
      md << "failed (" << row["failures"] << "x): " << cell(row["failed"].get<std::string>())
         << " | | | | | | | | | | | | no |\n";
      continue;
    }
    const bool under = row.value("effect_p99_under_goal", false) && row.value("gone_p99_under_goal", false);
    md << row["cycles"] << (row.value("failures", 0) > 0 ? " (+" + row["failures"].dump() + " failed)" : "") << " | "
       << at(row, {"inject_ms", "p50"}) << " | " << at(row, {"inject_ms", "p99"}) << " | "
       << at(row, {"time_to_effect_ms", "p50"}) << " | " << at(row, {"time_to_effect_ms", "p99"}) << " | "
       << at(row, {"time_to_effect_ms", "max"}) << " | " << at(row, {"revert_ms", "p50"}) << " | "
       << at(row, {"revert_ms", "p99"}) << " | " << at(row, {"time_to_gone_ms", "p50"}) << " | "
       << at(row, {"time_to_gone_ms", "p99"}) << " | " << at(row, {"time_to_gone_ms", "max"}) << " | "
       << effects(row) << " | " << (under ? "yes" : "no") << " |\n";
  }
  md << "\nEvery kind under the goal: " << (proof.value("all_kinds_under_goal", false) ? "yes" : "no") << ".\n";
  const json& first = proof["first_fault"];
  md << "\nFirst fault of an experiment on a node (" << first.value("kind", "?") << ", " << first["samples"]
     << " fresh experiments; the agent snapshots the system for the leftover check first): inject p50 "
     << at(first, {"inject_ms", "p50"}) << " ms, max " << at(first, {"inject_ms", "max"})
     << " ms; time to effect p50 " << at(first, {"time_to_effect_ms", "p50"}) << " ms. RevertAll with the "
     << "leftover comparison: p50 " << at(first, {"revert_all_with_leftover_check_ms", "p50"}) << " ms, max "
     << at(first, {"revert_all_with_leftover_check_ms", "max"}) << " ms; leftovers found: " << first["leftovers"]
     << ".\n\n";
  const json& end = proof["experiment_end"];
  md << "The measured experiment at its end: leftover check "
     << (end.value("checked", false) ? "done, " + end["leftovers"].dump() + " leftover(s)"
                                     : std::string("not done (") +
                                           (end.contains("errors") && !end["errors"].empty()
                                                ? cell(end["errors"][0].get<std::string>())
                                                : cell(end.value("error", "?"))) +
                                           ")")
     << "; test bed after the agent stopped: "
     << (proof.value("left_after_shutdown", "").empty() ? "as before" : "CHANGED (see proof.json)") << ".\n\n";
}

void breach_md(std::ostream& md, const json& breach) {
  md << "## SLO breach -> abort -> all faults reverted (lab)\n\n";
  if (skipped(md, breach)) return;
  md << "From the run's journal.json; during_interval " << breach.value("during_interval", "?") << ".\n\n"
     << "| inject -> breach seen s | breach -> abort s | abort -> all reverted s | breach -> all reverted s | "
        "faults | verdict |\n|---:|---:|---:|---:|---:|---|\n"
     << "| " << at(breach, {"inject_to_breach_seen_s"}, 3) << " | " << at(breach, {"breach_to_abort_s"}, 3) << " | "
     << at(breach, {"abort_to_all_reverted_s"}, 3) << " | " << at(breach, {"breach_to_all_reverted_s"}, 3) << " | "
     << breach["faults"] << " | " << breach.value("verdict", "") << " |\n\n";
}

void proxy_md(std::ostream& md, const json& proxy) {
  md << "## TCP proxy throughput (tcp.* proxy engine, one stream on 127.0.0.1)\n\n";
  if (skipped(md, proxy)) return;
  md << "Best of " << proxy.value("rounds", 0) << " rounds of " << at(proxy, {"seconds"}, 1)
     << " s per path, each path against direct in the same run; goal: ratio >= 0.5.\n\n"
     << "| path | Mbit/s | ratio to direct | process CPU s per GiB | proxy thread CPU s per GiB |\n"
     << "|---|---:|---:|---:|---:|\n"
     << "| direct | " << at(proxy, {"direct_mbit_per_s"}, 0) << " | 1.00 | " << at(proxy, {"direct_cpu_s_per_gib"}, 3)
     << " | |\n| pass-through (as the agent runs it: recv()/send()) | " << at(proxy, {"pass_through_mbit_per_s"}, 0)
     << " | " << at(proxy, {"pass_through_ratio"}) << " | " << at(proxy, {"pass_through_cpu_s_per_gib"}, 3) << " | "
     << at(proxy, {"pass_through_engine_cpu_s_per_gib"}, 3)
     << " |\n| spliced (pass-through with the engine's splice() option) | " << at(proxy, {"spliced_mbit_per_s"}, 0) << " | "
     << at(proxy, {"spliced_ratio"}) << " | " << at(proxy, {"spliced_cpu_s_per_gib"}, 3) << " | "
     << at(proxy, {"spliced_engine_cpu_s_per_gib"}, 3) << " |\n| copied (a filter sees every byte) | "
     << at(proxy, {"copied_mbit_per_s"}, 0) << " | " << at(proxy, {"copied_ratio"}) << " | "
     << at(proxy, {"copied_cpu_s_per_gib"}, 3) << " | " << at(proxy, {"copied_engine_cpu_s_per_gib"}, 3) << " |\n\n";
}

// proxy_veth_bench: the same paths in the agent's topology (root).
void proxy_veth_md(std::ostream& md, const json& veth) {
  md << "## TCP proxy throughput (client namespace -> veth -> server namespace, proxy behind the tcp.* nft "
        "redirect)\n\n";
  if (skipped(md, veth)) return;
  md << "Best of " << veth.value("rounds", 0) << " rounds of " << at(veth, {"seconds"}, 1)
     << " s per path, each path against direct in the same run; goal: ratio >= 0.5.\n\n"
     << "| path | Mbit/s | ratio to direct | process CPU s per GiB | proxy thread CPU s per GiB |\n"
     << "|---|---:|---:|---:|---:|\n";
  for (const char* path : {"direct", "pass_through", "spliced", "copied"}) {
    md << "| " << path << " | " << at(veth, {"paths", path, "mbit_per_s"}, 0) << " | "
       << at(veth, {"paths", path, "ratio"}) << " | " << at(veth, {"paths", path, "cpu_s_per_gib"}, 3) << " | "
       << at(veth, {"paths", path, "engine_cpu_s_per_gib"}, 3) << " |\n";
  }
  md << "\n";
}

int summarize(const std::string& dir) {
  json summary = {{"meta", load(dir + "/meta.json", "meta")},
                  {"fanout", load(dir + "/fanout.json", "fanout")},
                  {"network", load(dir + "/network.json", "network")},
                  {"footprint", load(dir + "/footprint.json", "footprint")},
                  {"soak", load(dir + "/soak.json", "soak")},
                  {"proof", load(dir + "/proof.json", "proof")},
                  {"proxy", load(dir + "/proxy.json", "proxy")},
                  {"proxy_veth", load(dir + "/proxy_veth.json", "proxy_veth")},
                  {"breach", load(dir + "/breach.json", "breach")}};
  std::ostringstream md;
  md << "# Benchmark summary\n\n";
  for (const auto& [key, value] : summary["meta"].items()) {
    md << "- " << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
  md << "\n";
  fanout_md(md, summary["fanout"]);
  network_md(md, summary["network"]);
  footprint_md(md, summary["footprint"]);
  soak_md(md, summary["soak"]);
  proof_md(md, summary["proof"]);
  proxy_md(md, summary["proxy"]);
  proxy_veth_md(md, summary["proxy_veth"]);
  breach_md(md, summary["breach"]);
  std::ofstream(dir + "/summary.json") << summary.dump(2) << "\n";
  std::ofstream(dir + "/summary.md") << md.str();
  std::cout << md.str();
  return 0;
}

int breach(const std::string& journal_path, const std::string& during_interval) {
  json result = load(journal_path, "breach");
  if (!result.contains("skipped")) {
    auto timing = chaos::bench::breach_timing(result);
    if (timing.ok()) {
      result = chaos::bench::to_json(*timing);
    } else {
      result = {{"skipped", "journal " + journal_path + ": " + timing.status().message()}};
    }
  }
  result["benchmark"] = "breach";
  result["during_interval"] = during_interval;
  chaos::bench::emit(result);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Aggregates benchmark results (bench/run calls this)"};
  app.require_subcommand(1);
  std::string dir, journal, during_interval = "1s";
  auto* summarize_command = app.add_subcommand("summarize", "Write DIR/summary.json and DIR/summary.md");
  summarize_command->add_option("dir", dir, "Directory with the benchmarks' JSON files")->required();
  auto* breach_command = app.add_subcommand("breach", "Breach/abort/revert timing of a run's journal.json");
  breach_command->add_option("journal", journal, "journal.json of a `chaosctl run`")->required();
  breach_command->add_option("--during-interval", during_interval, "The experiment's during_interval");
  CLI11_PARSE(app, argc, argv);
  if (*summarize_command) return summarize(dir);
  return breach(journal, during_interval);
}
