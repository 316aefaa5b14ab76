// TinyNAS stage 1: search-space optimisation (MCUNet paper Sec. 3.1, Fig. 3).
//
// For every (W, R) sub-space of a search space, sample m architectures,
// cost each with the cost model (peak SRAM under a memory planner, Flash,
// MACs), keep those that fit a board, and summarise the MACs ("FLOPs") of the
// fitting ones. The sub-space whose fitting networks have the largest mean
// MACs is the chosen one: a space where the networks that fit are big is a
// space where the accurate networks live.
//
// One sweep can cover several boards and several planners (the co-design
// claim: a leaner engine schedule admits larger networks). Architectures are
// sampled and costed once; each (board, planner) pair is a "case" of the
// result.
//
// Reproducible: sample j of sub-space (W, R) is drawn from
// Rng::Stream(seed, Fnv1a64(sub.Label()) + j), so results do not depend on
// the number of threads, the scheduling order, or which other sub-spaces the
// space lists.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mcunet/board.h"
#include "mcunet/search_space.h"

namespace mcunet {

inline constexpr int kSweepSchemaVersion = 1;

struct SweepOptions {
  std::vector<Board> boards;                       // at least one
  std::vector<std::string> planners = {"tinyengine"};  // at least one
  int samples = 1000;  // m, per sub-space
  uint64_t seed = 0;
  int num_threads = 0;  // 0: OpenMP's default
  // Number of evenly spaced CDF points (quantiles 0, 1/(n-1), ..., 1) of the
  // fitting networks' MACs kept in the JSON. >= 2.
  int cdf_points = 101;
  // Sub-spaces where fewer than this fraction of samples fit are not ranked.
  // The paper ranks every sub-space with at least one fitting network (0);
  // then a sub-space where 1 of 1000 samples fits can win on that one
  // network's MACs, which says nothing about its distribution (and leaves
  // evolution almost no feasible candidates). The default asks for 1%
  // (10 of 1000); SweepCase::best_any_fit keeps the paper's literal pick.
  double min_fit_fraction = 0.01;
  // Called from one thread only, with (samples done, total), about every
  // 1% and once at the end. May be empty.
  std::function<void(int64_t done, int64_t total)> progress;
};

// Quantiles reported for each sub-space (of the fitting networks' MACs).
inline constexpr double kSweepQuantiles[] = {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0};

struct SubSpaceStats {
  SubSpace sub;
  int samples = 0;
  int fitting = 0;
  double fit_fraction = 0.0;  // fitting / samples, in [0, 1]
  // Of the fitting networks; 0 when none fits.
  double mean_macs = 0.0;
  std::vector<int64_t> quantile_macs;  // one per kSweepQuantiles entry
  // The whole FLOPs CDF: MACs of every fitting network, ascending.
  std::vector<int64_t> fitting_macs;
  // Over all samples (fitting or not).
  int64_t min_peak_sram_bytes = 0;
  int64_t min_flash_bytes = 0;
  double mean_macs_all = 0.0;  // mean MACs of all samples, unconstrained
  int rank = -1;  // 0 = best; -1 = not ranked (too few or no fitting nets)
};

// One (board, planner) pair.
struct SweepCase {
  Board board;
  std::string planner;
  std::vector<SubSpaceStats> subspaces;  // in SearchSpace::SubSpaces() order
  int best = -1;  // index into subspaces; -1: nothing fits (enough)
  // The paper's rule without the min_fit_fraction threshold: largest mean
  // MACs among sub-spaces with at least one fitting network; -1 if none.
  int best_any_fit = -1;
  int64_t min_peak_sram_bytes = 0;       // smallest peak SRAM over the sweep
  int64_t min_flash_bytes = 0;           // smallest Flash over the sweep
  // "w0.5-r144: mean 83.2 M MACs, 41.3% fit" or "nothing fits stm32f412
  // under tflm: smallest peak SRAM 301.5 kB > 256 kB ...".
  std::string summary;

  const SubSpaceStats* best_stats() const { return best >= 0 ? &subspaces[best] : nullptr; }
};

struct SweepResult {
  SearchSpace space;
  int samples = 0;
  uint64_t seed = 0;
  double min_fit_fraction = 0.01;
  int cdf_points = 101;
  std::vector<SweepCase> cases;  // boards-major: case = ib * |planners| + ip
  // Not part of the JSON (which is deterministic):
  double seconds = 0.0;
  int threads = 0;
  int64_t evaluations = 0;  // architectures costed (x planners)
};

// Runs the sweep. Throws InvalidInput for bad options (no board, unknown
// planner, samples < 1, cdf_points < 2).
SweepResult RunSweep(const SearchSpace& space, const SweepOptions& options);

// The generator of sample j of sub-space `sub` in a sweep seeded with
// `seed`: space.Sample(rng) on it gives that sample's genes (e.g. to rebuild
// the architecture behind a point of the CDF).
Rng SweepSampleRng(uint64_t seed, const SubSpace& sub, int64_t j);

// Evenly spaced quantiles (nearest rank) of an ascending list; empty list ->
// empty result.
std::vector<int64_t> CdfPoints(const std::vector<int64_t>& sorted, int points);

// Versioned, deterministic JSON ({"schema_version": 1, "kind": "sweep", ...};
// no timings, so runs with different thread counts are byte-identical).
nlohmann::json SweepToJson(const SweepResult& r);
// One row per (board, planner, sub-space), with a header line.
std::string SweepToCsv(const SweepResult& r);
// A short text table: best (W, R) and mean MACs per board x planner.
std::string SweepComparisonTable(const SweepResult& r);

// Writes DIR/sweep.json and DIR/sweep.csv atomically (creating DIR).
void WriteSweep(const SweepResult& r, const std::string& dir);

}  // namespace mcunet
