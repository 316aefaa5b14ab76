// Host throughput of the generated vww1 code (optimised, specialised kernels
// running the in-place tinyengine plan) against the same model compiled with
// the plain reference kernels (CodegenOptions::reference_kernels), as a ratio
// in one run. Both programs are built by RunOnHost with the same compiler and
// flags (-O2 and -O3) and time `repeats` invocations on the same input; the
// Cortex-M figures come from the firmware.
//
//   build/bin/codegen_host_bench
//   counters: generated_us, reference_us (per inference), speedup
//             (= reference / generated), peak_sram_bytes of each build.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mcunet/codegen.h"
#include "mcunet/cost_model.h"
#include "mcunet/search_space.h"
#include "mcunet/tflite_reader.h"

namespace {

void BM_Vww1GeneratedVsReferenceKernels(benchmark::State& state) {
  using namespace mcunet;
  const CostReport report = EvaluateCost(ReadTflite(MCUNET_SOURCE_DIR "/tests/data/mcunet-vww1.tflite"));
  CodegenOptions opt;
  const GeneratedCode fast = GenerateCode(report, opt);
  opt.reference_kernels = true;
  const GeneratedCode ref = GenerateCode(report, opt);

  Rng rng(1);
  std::vector<int8_t> input(fast.input_bytes);
  for (int8_t& v : input) v = static_cast<int8_t>(rng.Next() & 0xff);

  HostRunOptions ro;
  ro.runtime_dir = MCUNET_SOURCE_DIR "/engine/runtime";
  ro.cflags = "-std=c99 -O" + std::to_string(state.range(1));
  ro.time_repeats = static_cast<int>(state.range(0));
  double fast_ns = 0, ref_ns = 0;
  for (auto _ : state) {
    const HostRunResult f = RunOnHost(fast, input, ro);
    const HostRunResult r = RunOnHost(ref, input, ro);
    if (f.outputs != r.outputs) {
      state.SkipWithError("generated and reference builds disagree");
      return;
    }
    fast_ns = f.ns_per_invoke;
    ref_ns = r.ns_per_invoke;
  }
  state.counters["generated_us"] = fast_ns / 1e3;
  state.counters["reference_us"] = ref_ns / 1e3;
  state.counters["speedup"] = fast_ns > 0 ? ref_ns / fast_ns : 0;
  state.counters["generated_sram_B"] = static_cast<double>(fast.peak_sram_bytes);
  state.counters["reference_sram_B"] = static_cast<double>(ref.peak_sram_bytes);
}
// Args: timed invocations, optimisation level (-O2, -O3) of both builds.
BENCHMARK(BM_Vww1GeneratedVsReferenceKernels)
    ->ArgNames({"repeats", "O"})
    ->Args({200, 2})
    ->Args({200, 3})
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
