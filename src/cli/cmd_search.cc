// `mcunet search`: TinyNAS stage 2, resource-constrained evolution search
// within one sub-space (W, R) of a search space; resumable.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "core/json_util.h"
#include "mcunet/error.h"
#include "mcunet/evaluator.h"
#include "mcunet/evolution.h"
#include "mcunet/search_space.h"

namespace mcunet::cli {

namespace {

namespace fs = std::filesystem;

struct SearchOptions {
  std::string config;
  std::string resume;
  std::string out;
  std::string space;
  std::string subspace;
  std::string board;
  std::string planner;
  std::string evaluator;
  std::string table;
  std::optional<uint64_t> target_seed;
  std::string algorithm;
  std::string calibration;
  std::optional<int> population;
  std::optional<double> parent_ratio;
  std::optional<double> mutation_ratio;
  std::optional<double> mutate_prob;
  std::optional<int> generations;
  std::optional<uint64_t> seed;
  std::string sram_kb;
  std::string flash_kb;
  std::optional<double> latency_ms;
  std::optional<double> fps;
  std::string on_evaluator_error;
};

// "board", "none" or a number of kB.
Limit ParseLimitFlag(const std::string& flag, const std::string& v) {
  if (v == "board") return Limit::Board();
  if (v == "none") return Limit::None();
  try {
    size_t used = 0;
    const double d = std::stod(v, &used);
    if (used == v.size() && d > 0) return Limit::Value(d);
  } catch (const std::logic_error&) {
  }
  throw InvalidInput("search: " + flag + ": expected a number of kB, \"board\" or \"none\", got \"" + v + "\"");
}

std::string Absolute(const std::string& p) { return fs::absolute(fs::path(p)).lexically_normal().string(); }

EvolutionConfig BuildConfig(const SearchOptions& o) {
  EvolutionConfig c;
  if (!o.config.empty()) {
    c = EvolutionConfig::Load(o.config);
  } else if (o.space.empty() || o.subspace.empty()) {
    throw InvalidInput("search: give --config FILE, or --space FILE and --subspace w<W>-r<R> (or --resume DIR)");
  }
  if (!o.space.empty()) c.space = Absolute(o.space);
  if (!o.subspace.empty()) c.subspace = ParseSubSpaceLabel(o.subspace, "--subspace");
  if (!o.board.empty()) c.board = o.board;
  if (!o.planner.empty()) c.planner = o.planner;
  if (!o.algorithm.empty()) c.algorithm = o.algorithm;
  if (!o.calibration.empty()) c.latency_calibration = Absolute(o.calibration);
  if (o.population) c.population_size = *o.population;
  if (o.parent_ratio) c.parent_ratio = *o.parent_ratio;
  if (o.mutation_ratio) c.mutation_ratio = *o.mutation_ratio;
  if (o.mutate_prob) c.mutate_prob = *o.mutate_prob;
  if (o.generations) c.generations = *o.generations;
  if (o.seed) c.seed = *o.seed;
  if (!o.on_evaluator_error.empty()) c.on_evaluator_error = o.on_evaluator_error;
  if (!o.sram_kb.empty()) c.constraints.peak_sram_kb = ParseLimitFlag("--sram-kb", o.sram_kb);
  if (!o.flash_kb.empty()) c.constraints.flash_kb = ParseLimitFlag("--flash-kb", o.flash_kb);
  if (o.latency_ms) {
    c.constraints.latency_ms = Limit::Value(*o.latency_ms);
    c.constraints.fps = Limit::None();
  }
  if (o.fps) {
    c.constraints.fps = Limit::Value(*o.fps);
    if (!o.latency_ms) c.constraints.latency_ms = Limit::None();
  }
  if (!o.table.empty()) {
    if (!o.evaluator.empty() && o.evaluator != "table") throw InvalidInput("search: --table needs --evaluator table");
    c.evaluator = {{"kind", "table"}, {"path", Absolute(o.table)}};
  } else if (o.evaluator == "table") {
    throw InvalidInput("search: --evaluator table needs --table FILE");
  } else if (o.evaluator == "synthetic") {
    c.evaluator = {{"kind", "synthetic"}, {"target_seed", o.target_seed.value_or(0)}};
  } else if (!o.evaluator.empty()) {
    c.evaluator = {{"kind", o.evaluator}};
  }
  c.Validate("search");
  return c;
}

}  // namespace

void RegisterSearch(CLI::App& app) {
  auto opt = std::make_shared<SearchOptions>();
  auto* cmd = app.add_subcommand(
      "search",
      "Evolution search (TinyNAS stage 2) in one sub-space under peak SRAM / Flash / latency constraints; resumable");
  cmd->add_option("--config", opt->config, "Evolution config JSON (flags below override it)");
  cmd->add_option("--resume", opt->resume, "Continue the search checkpointed in DIR");
  cmd->add_option("--out", opt->out, "Output directory: checkpoint.json, best_arch.json, history.json/.csv, summary.json");
  cmd->add_option("--space", opt->space, "Search space JSON");
  cmd->add_option("--subspace", opt->subspace, "Sub-space, e.g. w0.5-r160");
  cmd->add_option("--board", opt->board, "Target board name or board JSON (default stm32f746)");
  cmd->add_option("--planner", opt->planner, "Memory planner: tinyengine, tflm or cmsis (default tinyengine)");
  cmd->add_option("--evaluator", opt->evaluator, "Fitness: macs (default), table, synthetic");
  cmd->add_option("--table", opt->table, "Accuracy table JSON for --evaluator table");
  cmd->add_option("--target-seed", opt->target_seed, "Target genome seed for --evaluator synthetic");
  cmd->add_option("--algorithm", opt->algorithm, "evolution (default) or random (baseline, same budget)");
  cmd->add_option("--calibration", opt->calibration, "Latency calibration JSON");
  cmd->add_option("--population", opt->population, "Population size (default 100)");
  cmd->add_option("--parent-ratio", opt->parent_ratio, "Fraction of the population kept as parents (default 0.2)");
  cmd->add_option("--mutation-ratio", opt->mutation_ratio, "Fraction of children made by mutation (default 0.5)");
  cmd->add_option("--mutate-prob", opt->mutate_prob, "Probability to resample each choice (default 0.1)");
  cmd->add_option("--generations", opt->generations, "Generations after the first population (default 30)");
  cmd->add_option("--seed", opt->seed, "Random seed (default 0)");
  cmd->add_option("--sram-kb", opt->sram_kb, "Peak SRAM limit: kB, board (default) or none");
  cmd->add_option("--flash-kb", opt->flash_kb, "Flash limit: kB, board (default) or none");
  cmd->add_option("--on-evaluator-error", opt->on_evaluator_error,
                  "continue (default: record the failed candidates and go on) or stop");
  cmd->add_option("--latency-ms", opt->latency_ms, "Latency limit in ms on the board (latency model)");
  cmd->add_option("--fps", opt->fps, "Latency limit as frames per second (5 FPS = 200 ms)");
  cmd->callback([opt] {
    std::unique_ptr<EvolutionSearch> search;
    std::unique_ptr<Evaluator> evaluator;
    std::string dir;
    if (!opt->resume.empty()) {
      const bool other = !opt->config.empty() || !opt->space.empty() || !opt->subspace.empty() ||
                         !opt->board.empty() || !opt->planner.empty() || !opt->evaluator.empty() ||
                         !opt->table.empty() || !opt->algorithm.empty() || opt->population || opt->seed ||
                         opt->parent_ratio || opt->mutation_ratio || opt->mutate_prob || !opt->sram_kb.empty() ||
                         !opt->flash_kb.empty() || opt->latency_ms || opt->fps || !opt->calibration.empty();
      if (other) {
        throw InvalidInput("search --resume: only --generations may be given (to extend the search); the rest is in " +
                           opt->resume + "/checkpoint.json");
      }
      dir = opt->out.empty() ? opt->resume : opt->out;
      EvolutionCheckpoint cp = LoadEvolutionCheckpoint(opt->resume);
      if (opt->generations) {
        if (*opt->generations < cp.state.generations_done) {
          throw InvalidInput("search --resume: --generations " + std::to_string(*opt->generations) +
                             " is fewer than the " + std::to_string(cp.state.generations_done) + " already done");
        }
        cp.config.generations = *opt->generations;
      }
      evaluator = MakeEvaluator(cp.config.evaluator, opt->resume + "/checkpoint.json: config", "", cp.space,
                                cp.config.subspace);
      search = std::make_unique<EvolutionSearch>(std::move(cp), evaluator.get(), dir);
    } else {
      if (opt->out.empty()) throw InvalidInput("search: --out DIR is required");
      dir = opt->out;
      if (fs::exists(fs::path(dir) / "checkpoint.json")) {
        throw InvalidInput("search: " + dir + " already holds a search (checkpoint.json); continue it with --resume " +
                           dir + " or choose another --out");
      }
      const EvolutionConfig config = BuildConfig(*opt);
      SearchSpace space = LoadSearchSpace(config.space);
      evaluator = MakeEvaluator(config.evaluator, opt->config.empty() ? "search" : opt->config, "", space,
                                config.subspace);
      fs::create_directories(dir);
      WriteJsonFile(config.ToJson(), (fs::path(dir) / "config.json").string());
      search = std::make_unique<EvolutionSearch>(config, std::move(space), evaluator.get(), dir);
    }
    spdlog::info("search {} in {} on {} ({}), population {}, {} generations, evaluator {}",
                 search->config().algorithm, search->config().subspace.Label(), search->board().name,
                 search->constraints().ToString(), search->config().population_size, search->config().generations,
                 evaluator->name());
    search->Run();
    std::printf("%s", search->SummaryText().c_str());
    std::printf("results      %s/{best_arch.json, history.json, history.csv, summary.json}\n", dir.c_str());
  });
}

}  // namespace mcunet::cli
