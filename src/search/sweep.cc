#include "mcunet/sweep.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/memory_plan.h"

namespace mcunet {

using nlohmann::json;

namespace {

uint64_t Fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string Kb(int64_t bytes) { return Format("%.1f", bytes / 1024.0) + " kB"; }
std::string Mmacs(double macs) { return Format("%.1f", macs / 1e6) + " M"; }

// Raw per-sample costs: MACs and Flash do not depend on the planner.
struct SampleCosts {
  std::vector<int64_t> macs;   // [sub * m + j]
  std::vector<int64_t> flash;  // [sub * m + j]
  std::vector<int64_t> peak;   // [(sub * m + j) * P + p]
};

void CheckOptions(const SearchSpace& space, const SweepOptions& o) {
  if (o.boards.empty()) throw InvalidInput("sweep: no board given");
  if (o.planners.empty()) throw InvalidInput("sweep: no planner given");
  for (const std::string& p : o.planners) MakePlanner(p);  // throws InvalidInput listing the planners
  if (o.samples < 1) throw InvalidInput("sweep: samples must be >= 1, got " + std::to_string(o.samples));
  if (o.cdf_points < 2) throw InvalidInput("sweep: cdf_points must be >= 2, got " + std::to_string(o.cdf_points));
  if (!(o.min_fit_fraction >= 0.0 && o.min_fit_fraction <= 1.0)) {
    throw InvalidInput("sweep: min_fit_fraction must be in [0, 1], got " + Format("%g", o.min_fit_fraction));
  }
  if (o.num_threads < 0) throw InvalidInput("sweep: num_threads must be >= 0");
  space.Validate();
}

SampleCosts CostSamples(const SearchSpace& space, const std::vector<SubSpace>& subs, const SweepOptions& o,
                        int* threads_used) {
  const int64_t m = o.samples;
  const int64_t total = static_cast<int64_t>(subs.size()) * m;
  const int np = static_cast<int>(o.planners.size());
  SampleCosts c;
  c.macs.assign(total, 0);
  c.flash.assign(total, 0);
  c.peak.assign(total * np, 0);

  std::vector<uint64_t> sub_hash(subs.size());
  for (size_t i = 0; i < subs.size(); ++i) sub_hash[i] = Fnv1a64(subs[i].Label());

  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  std::string error;
  const int64_t step = std::max<int64_t>(1, total / 100);
  const int requested = o.num_threads > 0 ? o.num_threads : omp_get_max_threads();
  int used = 1;

#pragma omp parallel num_threads(requested)
  {
#pragma omp single
    used = omp_get_num_threads();

    // The first planner costs the architecture; the others only re-plan the
    // same lowered graph (no copy, no recount of MACs and Flash).
    CostEvaluator eval(o.planners[0]);
    std::vector<std::unique_ptr<MemoryPlanner>> other_planners;
    for (int p = 1; p < np; ++p) other_planners.push_back(MakePlanner(o.planners[p]));
    MemoryPlan other_plan;
    Genes genes;
    Arch arch;
    int64_t next_report = step;

#pragma omp for schedule(dynamic, 32)
    for (int64_t k = 0; k < total; ++k) {
      if (failed.load(std::memory_order_relaxed)) continue;
      try {
        const int64_t i = k / m;
        const int64_t j = k % m;
        Rng rng = Rng::Stream(o.seed, sub_hash[i] + static_cast<uint64_t>(j));
        space.SampleInto(rng, &genes);
        space.DecodeInto(subs[i], genes, &arch);
        const CostReport& r0 = eval.Evaluate(arch);
        c.macs[k] = r0.counts.macs;
        c.flash[k] = r0.flash_bytes();
        c.peak[k * np] = r0.peak_sram_bytes();
        for (int p = 1; p < np; ++p) {
          other_planners[p - 1]->Plan(r0.graph, &other_plan);
          c.peak[k * np + p] = other_plan.peak_sram_bytes;
        }
      } catch (const std::exception& e) {
#pragma omp critical(mcunet_sweep_error)
        {
          if (!failed.load()) error = e.what();
          failed.store(true);
        }
      }
      const int64_t d = done.fetch_add(1, std::memory_order_relaxed) + 1;
      if (o.progress && omp_get_thread_num() == 0 && d >= next_report) {
        o.progress(d, total);
        next_report = d + step;
      }
    }
  }
  if (failed) throw Error("sweep: evaluating a sample failed: " + error);
  if (o.progress) o.progress(total, total);
  *threads_used = used;
  return c;
}

SubSpaceStats Summarise(const SubSpace& sub, const SampleCosts& c, int64_t first, int64_t m, int np, int p,
                        const Board& board) {
  SubSpaceStats s;
  s.sub = sub;
  s.samples = static_cast<int>(m);
  s.min_peak_sram_bytes = INT64_MAX;
  s.min_flash_bytes = INT64_MAX;
  double sum_all = 0.0;
  for (int64_t k = first; k < first + m; ++k) {
    const int64_t peak = c.peak[k * np + p];
    const int64_t flash = c.flash[k];
    s.min_peak_sram_bytes = std::min(s.min_peak_sram_bytes, peak);
    s.min_flash_bytes = std::min(s.min_flash_bytes, flash);
    sum_all += static_cast<double>(c.macs[k]);
    // The same criterion as mcunet::Fits(CostReport, Board), without its
    // message strings (this runs for every sample x board x planner).
    if (FitsBoard(peak, flash, board)) s.fitting_macs.push_back(c.macs[k]);
  }
  std::sort(s.fitting_macs.begin(), s.fitting_macs.end());
  s.fitting = static_cast<int>(s.fitting_macs.size());
  s.fit_fraction = static_cast<double>(s.fitting) / static_cast<double>(m);
  s.mean_macs_all = sum_all / static_cast<double>(m);
  if (s.fitting > 0) {
    double sum = 0.0;
    for (int64_t v : s.fitting_macs) sum += static_cast<double>(v);
    s.mean_macs = sum / s.fitting;
    for (double q : kSweepQuantiles) {
      const size_t idx = static_cast<size_t>(std::llround(q * (s.fitting - 1)));
      s.quantile_macs.push_back(s.fitting_macs[idx]);
    }
  }
  return s;
}

void Rank(SweepCase* sc, double min_fit_fraction) {
  std::vector<int> order;
  for (size_t i = 0; i < sc->subspaces.size(); ++i) {
    const SubSpaceStats& s = sc->subspaces[i];
    if (s.fitting > 0 && s.fit_fraction >= min_fit_fraction) order.push_back(static_cast<int>(i));
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const SubSpaceStats& x = sc->subspaces[a];
    const SubSpaceStats& y = sc->subspaces[b];
    if (x.mean_macs != y.mean_macs) return x.mean_macs > y.mean_macs;
    if (x.fit_fraction != y.fit_fraction) return x.fit_fraction > y.fit_fraction;
    return a < b;
  });
  for (size_t r = 0; r < order.size(); ++r) sc->subspaces[order[r]].rank = static_cast<int>(r);
  sc->best = order.empty() ? -1 : order[0];
  sc->best_any_fit = -1;
  for (size_t i = 0; i < sc->subspaces.size(); ++i) {
    const SubSpaceStats& s = sc->subspaces[i];
    if (s.fitting == 0) continue;
    if (sc->best_any_fit < 0 || s.mean_macs > sc->subspaces[sc->best_any_fit].mean_macs) {
      sc->best_any_fit = static_cast<int>(i);
    }
  }

  sc->min_peak_sram_bytes = INT64_MAX;
  sc->min_flash_bytes = INT64_MAX;
  int64_t any_fit = 0;
  for (const SubSpaceStats& s : sc->subspaces) {
    sc->min_peak_sram_bytes = std::min(sc->min_peak_sram_bytes, s.min_peak_sram_bytes);
    sc->min_flash_bytes = std::min(sc->min_flash_bytes, s.min_flash_bytes);
    any_fit += s.fitting;
  }
  const std::string where = sc->board.name + " (" + Kb(sc->board.sram_bytes) + " SRAM, " +
                            Kb(sc->board.flash_bytes) + " Flash) under " + sc->planner;
  if (sc->best >= 0) {
    const SubSpaceStats& b = sc->subspaces[sc->best];
    sc->summary = b.sub.Label() + " on " + where + ": mean " + Mmacs(b.mean_macs) + " MACs of the " +
                  std::to_string(b.fitting) + "/" + std::to_string(b.samples) + " fitting networks (" +
                  Format("%.1f", 100.0 * b.fit_fraction) + "%)";
  } else if (any_fit == 0) {
    sc->summary = "nothing fits " + where + ": smallest peak SRAM seen " + Kb(sc->min_peak_sram_bytes) +
                  ", smallest Flash seen " + Kb(sc->min_flash_bytes);
  } else {
    sc->summary = "no sub-space has at least " + Format("%.1f", 100.0 * min_fit_fraction) +
                  "% fitting networks on " + where;
  }
}

}  // namespace

Rng SweepSampleRng(uint64_t seed, const SubSpace& sub, int64_t j) {
  return Rng::Stream(seed, Fnv1a64(sub.Label()) + static_cast<uint64_t>(j));
}

std::vector<int64_t> CdfPoints(const std::vector<int64_t>& sorted, int points) {
  std::vector<int64_t> out;
  if (sorted.empty() || points < 1) return out;
  const int64_t n = static_cast<int64_t>(sorted.size());
  out.reserve(points);
  for (int i = 0; i < points; ++i) {
    const double q = points == 1 ? 1.0 : static_cast<double>(i) / (points - 1);
    out.push_back(sorted[static_cast<size_t>(std::llround(q * static_cast<double>(n - 1)))]);
  }
  return out;
}

SweepResult RunSweep(const SearchSpace& space, const SweepOptions& o) {
  CheckOptions(space, o);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<SubSpace> subs = space.SubSpaces();
  const int np = static_cast<int>(o.planners.size());
  SweepResult r;
  r.space = space;
  r.samples = o.samples;
  r.seed = o.seed;
  r.min_fit_fraction = o.min_fit_fraction;
  r.cdf_points = o.cdf_points;

  const SampleCosts c = CostSamples(space, subs, o, &r.threads);
  r.evaluations = static_cast<int64_t>(subs.size()) * o.samples * np;

  for (const Board& board : o.boards) {
    for (int p = 0; p < np; ++p) {
      SweepCase sc;
      sc.board = board;
      sc.planner = o.planners[p];
      for (size_t i = 0; i < subs.size(); ++i) {
        sc.subspaces.push_back(
            Summarise(subs[i], c, static_cast<int64_t>(i) * o.samples, o.samples, np, p, board));
      }
      Rank(&sc, o.min_fit_fraction);
      r.cases.push_back(std::move(sc));
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

json SweepToJson(const SweepResult& r) {
  json cases = json::array();
  for (const SweepCase& sc : r.cases) {
    json subs = json::array();
    std::vector<std::pair<int, std::string>> ranking;
    for (const SubSpaceStats& s : sc.subspaces) {
      if (s.rank >= 0) ranking.emplace_back(s.rank, s.sub.Label());
      subs.push_back({{"label", s.sub.Label()},
                      {"width_mult", s.sub.width_mult},
                      {"resolution", s.sub.resolution},
                      {"samples", s.samples},
                      {"fitting", s.fitting},
                      {"fit_fraction", s.fit_fraction},
                      {"mean_macs", s.mean_macs},
                      {"quantile_macs", s.quantile_macs},
                      {"cdf_macs", CdfPoints(s.fitting_macs, r.cdf_points)},
                      {"mean_macs_all", s.mean_macs_all},
                      {"min_peak_sram_bytes", s.min_peak_sram_bytes},
                      {"min_flash_bytes", s.min_flash_bytes},
                      {"rank", s.rank >= 0 ? json(s.rank) : json(nullptr)}});
    }
    std::sort(ranking.begin(), ranking.end());
    json ranked = json::array();
    for (const auto& [rank, label] : ranking) ranked.push_back(label);
    const SubSpaceStats* best = sc.best_stats();
    cases.push_back({{"board", BoardToJson(sc.board)},
                     {"planner", sc.planner},
                     {"best", best ? json(best->sub.Label()) : json(nullptr)},
                     {"best_width_mult", best ? json(best->sub.width_mult) : json(nullptr)},
                     {"best_resolution", best ? json(best->sub.resolution) : json(nullptr)},
                     {"best_mean_macs", best ? json(best->mean_macs) : json(nullptr)},
                     {"nothing_fits", sc.best_any_fit < 0},
                     {"best_any_fit", sc.best_any_fit >= 0 ? json(sc.subspaces[sc.best_any_fit].sub.Label())
                                                           : json(nullptr)},
                     {"min_peak_sram_bytes", sc.min_peak_sram_bytes},
                     {"min_flash_bytes", sc.min_flash_bytes},
                     {"summary", sc.summary},
                     {"ranking", ranked},
                     {"subspaces", subs}});
  }
  std::vector<double> q(std::begin(kSweepQuantiles), std::end(kSweepQuantiles));
  return {{"schema_version", kSweepSchemaVersion},
          {"kind", "sweep"},
          {"space", SearchSpaceToJson(r.space)},
          {"space_file", r.space.source},
          {"samples", r.samples},
          {"seed", r.seed},
          {"min_fit_fraction", r.min_fit_fraction},
          {"quantiles", q},
          {"cdf_points", r.cdf_points},
          {"macs_note", "MACs of conv and linear layers (the paper's FLOPs axis counts MACs)"},
          {"cases", cases}};
}

std::string SweepToCsv(const SweepResult& r) {
  std::string out =
      "board,planner,subspace,width_mult,resolution,samples,fitting,fit_fraction,mean_macs,min_macs,p10_macs,"
      "p25_macs,median_macs,p75_macs,p90_macs,max_macs,mean_macs_all,min_peak_sram_bytes,min_flash_bytes,rank,"
      "best\n";
  char buf[512];
  for (const SweepCase& sc : r.cases) {
    for (size_t i = 0; i < sc.subspaces.size(); ++i) {
      const SubSpaceStats& s = sc.subspaces[i];
      std::string qs;
      for (size_t k = 0; k < std::size(kSweepQuantiles); ++k) {
        qs += ',';
        if (!s.quantile_macs.empty()) qs += std::to_string(s.quantile_macs[k]);
      }
      std::snprintf(buf, sizeof(buf), "%s,%s,%s,%g,%d,%d,%d,%.6f,%.1f", sc.board.name.c_str(), sc.planner.c_str(),
                    s.sub.Label().c_str(), s.sub.width_mult, s.sub.resolution, s.samples, s.fitting,
                    s.fit_fraction, s.mean_macs);
      out += buf;
      out += qs;
      std::snprintf(buf, sizeof(buf), ",%.1f,%lld,%lld,%s,%d\n", s.mean_macs_all,
                    static_cast<long long>(s.min_peak_sram_bytes), static_cast<long long>(s.min_flash_bytes),
                    s.rank >= 0 ? std::to_string(s.rank).c_str() : "", static_cast<int>(sc.best) == static_cast<int>(i));
      out += buf;
    }
  }
  return out;
}

std::string SweepComparisonTable(const SweepResult& r) {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%-12s %-11s %-12s %12s %8s %12s %14s\n", "board", "planner", "best (W,R)",
                "mean MACs", "fit", "median MACs", "min peak SRAM");
  out += buf;
  for (const SweepCase& sc : r.cases) {
    const SubSpaceStats* b = sc.best_stats();
    if (b) {
      std::snprintf(buf, sizeof(buf), "%-12s %-11s %-12s %12s %7.1f%% %12s %14s\n", sc.board.name.c_str(),
                    sc.planner.c_str(), b->sub.Label().c_str(), Mmacs(b->mean_macs).c_str(), 100.0 * b->fit_fraction,
                    Mmacs(static_cast<double>(b->quantile_macs[3])).c_str(), Kb(sc.min_peak_sram_bytes).c_str());
    } else {
      std::snprintf(buf, sizeof(buf), "%-12s %-11s %-12s %12s %8s %12s %14s  (nothing fits)\n", sc.board.name.c_str(),
                    sc.planner.c_str(), "-", "-", "-", "-", Kb(sc.min_peak_sram_bytes).c_str());
    }
    out += buf;
  }
  return out;
}

void WriteSweep(const SweepResult& r, const std::string& dir) {
  try {
    std::filesystem::create_directories(dir);
  } catch (const std::filesystem::filesystem_error& e) {
    throw InvalidInput("sweep: cannot create output directory " + dir + ": " + e.code().message());
  }
  WriteJsonFile(SweepToJson(r), (std::filesystem::path(dir) / "sweep.json").string());
  WriteTextFile(SweepToCsv(r), (std::filesystem::path(dir) / "sweep.csv").string());
}

}  // namespace mcunet
