// The FaultRegistry test fixture: a FakeClock, a fake fault kind and a real
// journal in a temp dir, shared by the registry's unit tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/fault_registry.h"
#include "metrics/text_format.h"
#include "tests/unit/agent/fake_fault_kind.h"

namespace chaos::agent {

using namespace std::chrono_literals;
using testing::FakeFaultKind;
using testing::FakeKindState;

inline v1::FaultSpec delay_spec(int millis = 50) {
  v1::FaultSpec spec;
  spec.mutable_network_delay()->mutable_delay()->set_nanos(millis * 1'000'000);
  return spec;
}

inline InjectCommand command(Duration duration = 60s, std::string lease = "", Duration lease_ttl = 0s) {
  InjectCommand inject;
  inject.experiment_id = "exp-1";
  inject.lease_id = std::move(lease);
  inject.lease_ttl = lease_ttl;
  inject.duration = duration;
  inject.spec = delay_spec();
  return inject;
}

class FaultRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_dir_ = std::filesystem::path(::testing::TempDir()) /
                 ("registry-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(state_dir_);
    journal_ = std::make_unique<FileFaultJournal>(state_dir_.string());
    ASSERT_TRUE(journal_->open().ok());
    registry_ = make_registry(Policy{});
  }

  void TearDown() override {
    registry_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(state_dir_, ignored);  // nothing left behind, also after a failure
  }

  // `journal` null: the real journal in the temp dir.
  std::unique_ptr<FaultRegistry> make_registry(Policy policy, Executor* executor = nullptr,
                                               FaultJournal* journal = nullptr) {
    FaultRegistryOptions options;
    options.node_name = "node-a";
    options.policy = std::move(policy);
    options.executor = executor;
    options.leftovers = leftovers_;
    options.log = [this](const std::string& line) {
      {
        std::lock_guard lock(log_mutex_);
        log_.push_back(line);
      }
      if (on_log_) on_log_(line);
    };
    auto registry = std::make_unique<FaultRegistry>(clock_, journal != nullptr ? *journal : *journal_, metrics_,
                                                    options);
    registry->add_kind(std::make_unique<FakeFaultKind>(kind_));
    return registry;
  }

  std::size_t journal_files() const {
    std::size_t count = 0;
    for (const auto& item : std::filesystem::directory_iterator(journal_->directory())) {
      if (item.path().extension() == ".json" || item.path().extension() == ".fj") ++count;
    }
    return count;
  }

  bool logged(const std::string& part) {
    std::lock_guard lock(log_mutex_);
    return std::any_of(log_.begin(), log_.end(), [&](const std::string& line) {
      return line.find(part) != std::string::npos;
    });
  }

  std::string metrics_text() const { return metrics::serialize_text(metric_registry_); }

  FakeClock clock_;
  LeftoverTracker* leftovers_ = nullptr;  // set before make_registry() to test the leftover check
  metrics::Registry metric_registry_;
  AgentMetrics metrics_{metric_registry_, "node-a"};
  std::shared_ptr<FakeKindState> kind_ = std::make_shared<FakeKindState>();
  std::filesystem::path state_dir_;
  std::unique_ptr<FileFaultJournal> journal_;
  std::unique_ptr<FaultRegistry> registry_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
  std::function<void(const std::string& line)> on_log_;  // after the line is kept
};

}  // namespace chaos::agent
