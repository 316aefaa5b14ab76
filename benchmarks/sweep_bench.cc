// The stage-1 sweep of the paper: 108 sub-spaces x 1000 samples on one board
// (stm32f746, tinyengine planner). Goal: < 2 s wall time on 2 cores; the
// paper reports about 2 CPU hours.
#include <benchmark/benchmark.h>

#include "mcunet/board.h"
#include "mcunet/search_space.h"
#include "mcunet/sweep.h"

namespace {

void BM_Sweep(benchmark::State& state) {
  const mcunet::SearchSpace space = mcunet::LoadSearchSpace(MCUNET_SOURCE_DIR "/search_spaces/mcunet.json");
  mcunet::SweepOptions o;
  o.boards = {mcunet::FindBoard("stm32f746")};
  o.planners = {"tinyengine"};
  o.samples = 1000;
  o.seed = 0;
  o.num_threads = static_cast<int>(state.range(0));
  int64_t evaluations = 0;
  for (auto _ : state) {
    const mcunet::SweepResult r = mcunet::RunSweep(space, o);
    evaluations += r.evaluations;
    benchmark::DoNotOptimize(r.cases[0].best);
    state.counters["threads"] = r.threads;
  }
  state.SetItemsProcessed(evaluations);
}
BENCHMARK(BM_Sweep)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
