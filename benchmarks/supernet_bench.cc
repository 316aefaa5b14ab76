// Weight-sharing overhead: one training step (zero grad, forward, loss,
// backward, SGD) of a subnet run inside the supernet (sliced weights)
// against the same architecture as a static libtorch network, side by
// side in one run. Goal (issue 5): supernet / static <= 1.15.
//
//   build/bin/supernet_bench [--benchmark_min_time=2]
//   build/bin/supernet_bench --benchmark_repetitions=7 --benchmark_enable_random_interleaving=true
// With repetitions the ratios use the medians; random interleaving spreads
// the supernet and static runs over the same stretch of time, so that load
// from other jobs hits both alike.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

#include "mcunet/nn/supernet.h"
#include "mcunet/nn/trainer.h"
#include "nn/modules.h"

namespace {

using mcunet::Arch;
using mcunet::Rng;
using mcunet::SubSpace;
using mcunet::nn::Supernet;

constexpr int kBatch = 64;

struct Fixture {
  Supernet net{mcunet::LoadSearchSpace(std::string(MCUNET_SOURCE_DIR) + "/search_spaces/fmnist_small.json"),
               SubSpace{0.5, 32}, 0};
  torch::Tensor x = torch::randn({kBatch, 1, 32, 32});
  torch::Tensor y = torch::randint(0, 10, {kBatch}, torch::kInt64);
  Arch Pick(const std::string& which) {
    if (which == "largest") return net.LargestArch();
    if (which == "smallest") return net.SmallestArch();
    Rng rng(7);
    return net.SampleArch(rng);
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

template <typename Module>
void Step(Module& m, torch::optim::SGD& opt, const torch::Tensor& x, const torch::Tensor& y) {
  opt.zero_grad();
  torch::Tensor loss = torch::nn::functional::cross_entropy(m.forward(x), y);
  loss.backward();
  opt.step();
}

void BM_Supernet(benchmark::State& state, const std::string& which) {
  Fixture& f = F();
  const Arch a = f.Pick(which);
  f.net.SetActive(a);
  auto& m = *f.net.impl().module;
  m.train();
  torch::optim::SGD opt(m.parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  Step(m, opt, f.x, f.y);
  for (auto _ : state) Step(m, opt, f.x, f.y);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Static(benchmark::State& state, const std::string& which) {
  Fixture& f = F();
  mcunet::nn::Subnet sub = f.net.Extract(f.Pick(which));
  auto& m = *sub.impl().module;
  m.train();
  torch::optim::SGD opt(m.parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  Step(m, opt, f.x, f.y);
  for (auto _ : state) Step(m, opt, f.x, f.y);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// Console output plus the times, to print the ratios at the end.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      times[r.benchmark_name()] = r.GetAdjustedRealTime();
      cpu[r.benchmark_name()] = r.GetAdjustedCPUTime();
    }
  }
  std::map<std::string, double> times, cpu;
};

}  // namespace

int main(int argc, char** argv) {
  mcunet::nn::ConfigureRuntime(2);
  const char* kinds[] = {"largest", "sampled", "smallest"};
  for (const char* k : kinds) {
    benchmark::RegisterBenchmark((std::string("SupernetStep/") + k).c_str(), BM_Supernet, std::string(k))
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((std::string("StaticStep/") + k).c_str(), BM_Static, std::string(k))
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  // Wall time is what matters on an idle machine; CPU time (all threads) is
  // the steadier figure when other jobs share the cores.
  std::printf("\nweight-sharing overhead (one training step, batch %d, fmnist_small w0.5-r32, 2 threads):\n", kBatch);
  for (const char* k : kinds) {
    // The median of repetitions when there are some, else the single run.
    const auto find = [&](const std::string& name) {
      const auto median = reporter.times.find(name + "_median");
      return median != reporter.times.end() ? median : reporter.times.find(name);
    };
    const auto s = find(std::string("SupernetStep/") + k);
    const auto t = find(std::string("StaticStep/") + k);
    if (s == reporter.times.end() || t == reporter.times.end() || t->second <= 0) continue;
    const double cpu_ratio = reporter.cpu[s->first] / reporter.cpu[t->first];
    std::printf("  %-8s supernet / static = %.3f wall, %.3f CPU time  (goal <= 1.15)\n", k, s->second / t->second,
                cpu_ratio);
  }
  return 0;
}
