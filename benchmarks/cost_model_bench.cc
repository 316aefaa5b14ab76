// Cost-model speed: how many architectures per second the search can cost.
// Goal: >= 100,000 evaluations/s per core with the tinyengine planner.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "mcunet/cost_model.h"
#include "mcunet/lower.h"
#include "mcunet/memory_plan.h"
#include "mcunet/search_space.h"

namespace {

// 1024 architectures sampled uniformly from the MCUNet space, over all 108
// (W, R) sub-spaces: the sweep's workload.
const std::vector<mcunet::Arch>& Archs() {
  static const std::vector<mcunet::Arch> archs = [] {
    const mcunet::SearchSpace space = mcunet::LoadSearchSpace(MCUNET_SOURCE_DIR "/search_spaces/mcunet.json");
    const std::vector<mcunet::SubSpace> subs = space.SubSpaces();
    mcunet::Rng rng(2020);
    std::vector<mcunet::Arch> out;
    for (int i = 0; i < 1024; ++i) out.push_back(space.Decode(subs[i % subs.size()], space.Sample(rng)));
    return out;
  }();
  return archs;
}

const char* PlannerName(int64_t i) {
  static const char* names[] = {"tinyengine", "tflm", "cmsis"};
  return names[i];
}

// Lower + plan + count + Flash: CostEvaluator::Evaluate(arch).
void BM_Evaluate(benchmark::State& state) {
  const std::string planner = PlannerName(state.range(0));
  state.SetLabel(planner);
  const auto& archs = Archs();
  mcunet::CostEvaluator ev(planner);
  size_t i = 0;
  for (auto _ : state) {
    const mcunet::CostReport& r = ev.Evaluate(archs[i++ & 1023]);
    benchmark::DoNotOptimize(r.plan.peak_sram_bytes);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Evaluate)->DenseRange(0, 2);

// Sample genes + decode + evaluate: one sweep step.
void BM_SampleDecodeEvaluate(benchmark::State& state) {
  const std::string planner = PlannerName(state.range(0));
  state.SetLabel(planner);
  static const mcunet::SearchSpace space = mcunet::LoadSearchSpace(MCUNET_SOURCE_DIR "/search_spaces/mcunet.json");
  const std::vector<mcunet::SubSpace> subs = space.SubSpaces();
  mcunet::CostEvaluator ev(planner);
  mcunet::Rng rng(1);
  mcunet::Genes g;
  mcunet::Arch a;
  size_t i = 0;
  for (auto _ : state) {
    space.SampleInto(rng, &g);
    space.DecodeInto(subs[i++ % subs.size()], g, &a);
    benchmark::DoNotOptimize(ev.Evaluate(a).plan.peak_sram_bytes);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SampleDecodeEvaluate)->DenseRange(0, 2);

// The parts: lowering alone, and planning a lowered graph alone.
void BM_Lower(benchmark::State& state) {
  const auto& archs = Archs();
  mcunet::Graph g;
  size_t i = 0;
  for (auto _ : state) {
    mcunet::LowerArch(archs[i++ & 1023], &g);
    benchmark::DoNotOptimize(g.ops.size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Lower);

void BM_Plan(benchmark::State& state) {
  const std::string planner = PlannerName(state.range(0));
  state.SetLabel(planner);
  std::vector<mcunet::Graph> graphs;
  for (const mcunet::Arch& a : Archs()) graphs.push_back(mcunet::LowerArch(a));
  const auto p = mcunet::MakePlanner(planner);
  mcunet::MemoryPlan plan;
  size_t i = 0;
  for (auto _ : state) {
    p->Plan(graphs[i++ & 1023], &plan);
    benchmark::DoNotOptimize(plan.peak_sram_bytes);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Plan)->DenseRange(0, 2);

void BM_SampleDecode(benchmark::State& state) {
  static const mcunet::SearchSpace space = mcunet::LoadSearchSpace(MCUNET_SOURCE_DIR "/search_spaces/mcunet.json");
  const std::vector<mcunet::SubSpace> subs = space.SubSpaces();
  mcunet::Rng rng(1);
  mcunet::Genes g;
  mcunet::Arch a;
  size_t i = 0;
  for (auto _ : state) {
    space.SampleInto(rng, &g);
    space.DecodeInto(subs[i++ % subs.size()], g, &a);
    benchmark::DoNotOptimize(a.blocks.size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SampleDecode);

}  // namespace

BENCHMARK_MAIN();
