#include "agent/faults/stress/cpu_stress_kind.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "agent/faults/stress/cpu_burner.h"
#include "agent/faults/stress/stress_fault_kinds.h"

namespace chaos::agent::stress {
namespace {

using namespace std::chrono_literals;

v1::FaultSpec cpu_spec(unsigned workers, double load_percent) {
  v1::FaultSpec spec;
  spec.mutable_stress_cpu()->set_workers(workers);
  spec.mutable_stress_cpu()->set_load_percent(load_percent);
  return spec;
}

TEST(CpuStressKind, FactoryRegistersStressCpuNeedingNoCapabilityAndStressMemory) {
  auto kinds = make_stress_fault_kinds();
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[0]->name(), "stress.cpu");
  EXPECT_EQ(kinds[0]->backend(), "threads");
  EXPECT_TRUE(kinds[0]->required_capabilities().empty());
  EXPECT_EQ(kinds[1]->name(), "stress.memory");
  EXPECT_EQ(kinds[1]->backend(), "processes");
  EXPECT_FALSE(kinds[0]->effect_survives_reboot());
  EXPECT_FALSE(kinds[1]->effect_survives_reboot());
}

TEST(CpuStressKind, ValidateNamesTheFieldOfABadSpec) {
  CpuStressKind kind;
  EXPECT_EQ(kind.validate(v1::FaultSpec()).message(), "stress_cpu: missing");
  EXPECT_EQ(kind.validate(cpu_spec(65, 50)).message(), "stress_cpu.workers: at most 64");
  EXPECT_EQ(kind.validate(cpu_spec(1, 100.5)).message(), "stress_cpu.load_percent: must be in (0, 100]");
  EXPECT_EQ(kind.validate(cpu_spec(1, -1)).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(kind.validate(cpu_spec(64, 100)).ok());
  auto defaults = cpu_stress_plan_from_spec(cpu_spec(0, 0));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->workers, 1u);
  EXPECT_EQ(defaults->load, 1.0);
}

TEST(CpuBurner, WorkersUseCpuUntilStoppedAndStopIsIdempotent) {
  auto burner = CpuBurner::start(2, 0.5);
  ASSERT_TRUE(burner.ok()) << burner.status().message();
  // Poll: the workers report their CPU time once per period.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((*burner)->cpu_time() < 20ms && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE((*burner)->cpu_time(), 20ms) << "the workers must really burn CPU";
  EXPECT_EQ((*burner)->running(), 2u);
  (*burner)->stop();
  EXPECT_EQ((*burner)->running(), 0u);
  const auto used = (*burner)->cpu_time();
  std::this_thread::sleep_for(2 * CpuBurner::kPeriod);
  EXPECT_EQ((*burner)->cpu_time(), used) << "no CPU after stop";
  (*burner)->stop();
}

TEST(CpuStressKind, ApplyStartsWorkersAndRevertEndsThem) {
  CpuStressKind kind;
  auto live = kind.apply(cpu_spec(1, 100), FaultContext{"f1", "exp", 60s});
  ASSERT_TRUE(live.ok()) << live.status().message();
  EXPECT_EQ((*live)->backend(), "threads");
  EXPECT_EQ((*live)->undo_record(), (nlohmann::json{{"workers", 1}}));
  EXPECT_EQ((*live)->detail().rfind("1 worker at 100%", 0), 0u) << (*live)->detail();
  EXPECT_TRUE((*live)->revert().ok());
  EXPECT_TRUE((*live)->revert().ok()) << "revert is idempotent";
  // Nothing outlives the agent: recovery after a crash has nothing to do.
  EXPECT_TRUE(kind.recover(cpu_spec(1, 100), FaultContext{"f1", "exp", 60s}, nullptr).ok());
  EXPECT_TRUE(kind.recover_by_id(FaultContext{"f1", "exp", 60s}).ok());
}

}  // namespace
}  // namespace chaos::agent::stress
