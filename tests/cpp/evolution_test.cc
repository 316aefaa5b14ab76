// Evolution search: configs and their errors, constraints (infeasible
// candidates are never evaluated), evaluators (MACs, table, synthetic,
// failing ones), finding a known optimum and beating random search with the
// same budget, determinism, in-process resume, and the CLI killed with
// SIGKILL and resumed to exactly the uninterrupted result.
#include "mcunet/evolution.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/json_util.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/evaluator.h"
#include "mcunet/latency_model.h"
#include "mcunet/search_space.h"

namespace mcunet {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kSpace = std::string(MCUNET_SOURCE_DIR) + "/search_spaces/mcunet.json";

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string FreshDir(const std::string& name) {
  const fs::path d = fs::path(testing::TempDir()) / ("evolution_test_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct CliResult {
  int status = -1;
  std::string out;
};

CliResult RunCli(const std::string& args) {
  CliResult r;
  const std::string cmd = std::string(MCUNET_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class Quiet : public ::testing::Environment {
 public:
  void SetUp() override { spdlog::set_level(spdlog::level::err); }
};
const auto* const kQuiet = ::testing::AddGlobalTestEnvironment(new Quiet);

EvolutionConfig SmallConfig(int population = 20, int generations = 4) {
  EvolutionConfig c;
  c.space = kSpace;
  c.subspace = {0.5, 160};
  c.population_size = population;
  c.generations = generations;
  c.seed = 7;
  return c;
}

// Records every architecture it is asked to evaluate.
class RecordingEvaluator : public Evaluator {
 public:
  std::string name() const override { return "recording"; }
  std::vector<double> Evaluate(const std::vector<Arch>& archs) override {
    ++calls;
    seen.insert(seen.end(), archs.begin(), archs.end());
    return macs.Evaluate(archs);
  }
  MacsEvaluator macs;
  std::vector<Arch> seen;
  int calls = 0;
};

// ---- Config ---------------------------------------------------------------------

TEST(JsonUtil, EditDistanceAndClosestMatch) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("seed", ""), 4u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("stm32f764", "stm32f746"), 1u);  // a transposition
  EXPECT_EQ(EditDistance("populaton_size", "population_size"), 1u);
  const std::vector<std::string> keys = {"population_size", "generations", "seed"};
  EXPECT_EQ(ClosestMatch("generatons", keys), "generations");
  EXPECT_EQ(ClosestMatch("sed", keys), "seed");
  EXPECT_EQ(ClosestMatch("colour", keys), "");  // too far from everything
  EXPECT_EQ(DidYouMean("seeds", keys), "; did you mean 'seed'?");
  EXPECT_EQ(DidYouMean("zzz", keys), "");
  JsonReader r("cfg.json");
  EXPECT_NO_THROW(r.CheckKeys(json{{"seed", 1}}, keys));
  EXPECT_EQ(ErrorOf([&] { r.CheckKeys(json{{"sede", 1}}, keys, "search."); }),
            "cfg.json: search.sede: unknown field; did you mean 'seed'? (known: population_size, generations, seed)");
}

TEST(EvolutionConfig, DefaultsAreThePapers) {
  EvolutionConfig c;
  EXPECT_EQ(c.population_size, 100);
  EXPECT_EQ(c.num_parents(), 20);
  EXPECT_EQ(c.num_mutations(), 50);
  EXPECT_EQ(c.num_crossovers(), 50);
  EXPECT_DOUBLE_EQ(c.mutate_prob, 0.1);
  EXPECT_EQ(c.generations, 30);
  EXPECT_EQ(c.budget(), 3100);
  EXPECT_EQ(c.evaluator["kind"], "macs");
  EXPECT_EQ(c.constraints.peak_sram_kb, Limit::Board());
  EXPECT_EQ(c.constraints.flash_kb, Limit::Board());
  EXPECT_EQ(c.constraints.latency_ms, Limit::None());
}

TEST(EvolutionConfig, JsonRoundTripAndRelativePaths) {
  const json j = {{"schema_version", 1},
                  {"kind", "evolution_config"},
                  {"space", "spaces/mcunet.json"},
                  {"subspace", "w0.3-r96"},
                  {"board", "stm32f412"},
                  {"constraints", {{"peak_sram_kb", 200}, {"flash_kb", nullptr}, {"fps", 5}}},
                  {"evaluator", {{"kind", "table"}, {"path", "acc.json"}}},
                  {"population_size", 30},
                  {"generations", 3},
                  {"seed", 11}};
  const EvolutionConfig c = EvolutionConfig::FromJson(j, "cfg.json", "/base/dir");
  EXPECT_EQ(c.space, "/base/dir/spaces/mcunet.json");
  EXPECT_EQ(c.evaluator["path"], "/base/dir/acc.json");
  EXPECT_EQ(c.subspace, (SubSpace{0.3, 96}));
  EXPECT_EQ(c.constraints.peak_sram_kb, Limit::Value(200));
  EXPECT_EQ(c.constraints.flash_kb, Limit::None());
  EXPECT_EQ(c.constraints.fps, Limit::Value(5));
  const Constraints lim = ResolveConstraints(c.constraints, FindBoard(c.board));
  EXPECT_EQ(*lim.max_peak_sram_bytes, 200 * 1024);
  EXPECT_FALSE(lim.max_flash_bytes);
  EXPECT_DOUBLE_EQ(*lim.max_latency_ms, 200.0);
  EXPECT_EQ(lim.ToString(), "peak SRAM <= 200.0 kB, latency <= 200.0 ms (5 FPS)");

  const EvolutionConfig back = EvolutionConfig::FromJson(c.ToJson(), "back.json", "");
  EXPECT_EQ(back.ToJson(), c.ToJson());
}

TEST(EvolutionConfig, BadConfigsNameTheField) {
  const json good = {{"schema_version", 1}, {"kind", "evolution_config"}, {"space", kSpace}, {"subspace", "w0.5-r160"}};
  const auto error = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    return ErrorOf([&] { EvolutionConfig::FromJson(j, "cfg.json", ""); });
  };
  EXPECT_EQ(error([](json&) {}), "");
  EXPECT_NE(error([](json& j) { j["schema_version"] = 2; }).find("cfg.json: schema_version: unsupported version 2"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j["kind"] = "arch"; }).find("kind: expected \"evolution_config\""), std::string::npos);
  EXPECT_NE(error([](json& j) { j["populaton_size"] = 5; }).find("populaton_size: unknown field"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["populaton_size"] = 5; }).find("did you mean 'population_size'?"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["mutation_prob"] = 0.1; }).find("did you mean 'mutate_prob'?"), std::string::npos);
  EXPECT_EQ(error([](json& j) { j["colour"] = 1; }).find("did you mean"), std::string::npos);  // nothing close
  EXPECT_NE(error([](json& j) { j["on_evaluator_error"] = "halt"; }).find("on_evaluator_error: expected"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j.erase("subspace"); }).find("subspace: required"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["subspace"] = "w0.5r160"; }).find("expected a sub-space label"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["population_size"] = 1; }).find("population_size: must be >= 2"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["population_size"] = "many"; }).find("population_size: expected an integer"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j["parent_ratio"] = 0; }).find("parent_ratio: must be in (0, 1]"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["mutate_prob"] = 1.5; }).find("mutate_prob: must be in [0, 1]"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["generations"] = -1; }).find("generations: must be >= 0"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["algorithm"] = "annealing"; }).find("algorithm: expected"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["planner"] = "magic"; }).find("unknown planner"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["constraints"] = {{"fps", 5}, {"latency_ms", 100}}; })
                .find("give either latency_ms or fps, not both"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j["constraints"] = {{"peak_sram_kb", -3}}; })
                .find("constraints.peak_sram_kb: must be a positive number"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j["constraints"] = {{"latency_ms", "board"}}; }).find("constraints.latency_ms"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j["constraints"] = {{"sram", 10}}; }).find("constraints.sram: unknown constraint"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j["constraints"] = {{"flash_kbs", 10}}; }).find("did you mean 'flash_kb'?"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j["evaluator"] = {{"name", "macs"}}; }).find("evaluator"), std::string::npos);
  EXPECT_THROW(EvolutionConfig::Load("/no/such/config.json"), FileNotFound);
}

TEST(EvolutionConfig, SubspaceOutsideTheSpaceAndBadEvaluators) {
  MacsEvaluator macs;
  EvolutionConfig c = SmallConfig();
  c.subspace = {0.55, 160};
  EXPECT_NE(ErrorOf([&] { EvolutionSearch(c, LoadSearchSpace(kSpace), &macs); }).find("subspace w0.55-r160 is not in"),
            std::string::npos);
  c.subspace = {0.5, 150};
  EXPECT_NE(ErrorOf([&] { EvolutionSearch(c, LoadSearchSpace(kSpace), &macs); }).find("resolutions"),
            std::string::npos);
  const SearchSpace space = LoadSearchSpace(kSpace);
  const SubSpace sub{0.5, 160};
  EXPECT_NE(ErrorOf([&] { MakeEvaluator({{"kind", "oracle"}}, "cfg", "", space, sub); })
                .find("evaluator.kind: unknown evaluator \"oracle\""),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { MakeEvaluator({{"kind", "macs"}, {"scale", 2}}, "cfg", "", space, sub); })
                .find("evaluator.scale: unknown field"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { MakeEvaluator({{"kind", "synthetic"}, {"target_sed", 2}}, "cfg", "", space, sub); })
                .find("did you mean 'target_seed'?"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { MakeEvaluator({{"kind", "tabel"}}, "cfg", "", space, sub); }).find("did you mean 'table'?"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { MakeEvaluator({{"kind", "synthetic"}}, "cfg", "", space, sub); }).find("target"),
            std::string::npos);
  EXPECT_THROW(MakeEvaluator({{"kind", "table"}, {"path", "/no/table.json"}}, "cfg", "", space, sub), FileNotFound);
}

// ---- Evaluators -----------------------------------------------------------------

TEST(Evaluators, MacsSyntheticAndHash) {
  const SearchSpace space = LoadSearchSpace(kSpace);
  const SubSpace sub{0.5, 160};
  Rng rng(3);
  const Genes target = space.Sample(rng);
  const Genes other = space.Sample(rng);
  SyntheticEvaluator syn(space, sub, target);
  const std::vector<double> f = syn.Evaluate({space.Decode(sub, target), space.Decode(sub, other)});
  EXPECT_DOUBLE_EQ(f[0], 1.0);
  EXPECT_LT(f[1], 1.0);
  EXPECT_DOUBLE_EQ(f[1], syn.Score(other));

  MacsEvaluator macs;
  const Arch a = space.Decode(sub, target);
  EXPECT_DOUBLE_EQ(macs.Evaluate({a})[0], CountArch(a).macs / 1e6);

  Arch renamed = a;
  renamed.name = "something else";
  EXPECT_EQ(ArchHash(a), ArchHash(renamed));
  EXPECT_NE(ArchHash(a), ArchHash(space.Decode(sub, other)));
  EXPECT_EQ(ArchHashHex(a).size(), 16u);

  CallbackEvaluator cb("depth", [](const std::vector<Arch>& archs) {
    std::vector<double> v;
    for (const Arch& x : archs) v.push_back(static_cast<double>(x.blocks.size()));
    return v;
  });
  EXPECT_EQ(cb.name(), "depth");
  EXPECT_DOUBLE_EQ(cb.Evaluate({a})[0], static_cast<double>(a.blocks.size()));
}

TEST(Evaluators, TableLooksUpByHashAndRejectsBadFiles) {
  const SearchSpace space = LoadSearchSpace(kSpace);
  const SubSpace sub{0.5, 160};
  Rng rng(5);
  const Arch a = space.Decode(sub, space.Sample(rng));
  const Arch b = space.Decode(sub, space.Sample(rng));
  const Arch c = space.Decode(sub, space.Sample(rng));
  const json table = {{"schema_version", 1},
                      {"kind", "accuracy_table"},
                      {"entries", {{ArchHashHex(a), 0.61}}},
                      {"archs", {{{"arch", ArchToJson(b)}, {"accuracy", 0.64}}}}};
  const std::string path = FreshDir("table") + "/acc.json";
  WriteJsonFile(table, path);
  TableEvaluator t = TableEvaluator::Load(path);
  EXPECT_EQ(t.size(), 2u);
  const std::vector<double> f = t.Evaluate({a, b, c});
  EXPECT_DOUBLE_EQ(f[0], 0.61);
  EXPECT_DOUBLE_EQ(f[1], 0.64);
  EXPECT_TRUE(std::isnan(f[2]));

  const auto error = [&](const std::function<void(json&)>& edit) {
    json j = table;
    edit(j);
    return ErrorOf([&] { TableEvaluator::FromJson(j, "acc.json"); });
  };
  EXPECT_NE(error([](json& j) { j["kind"] = "arch"; }).find("acc.json: kind"), std::string::npos);
  EXPECT_NE(error([](json& j) { j["entries"] = {{"xyz", 0.5}}; }).find("expected a 64-bit hex hash"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j["entries"] = {{"00ff", "high"}}; }).find("entries.00ff: expected a number"),
            std::string::npos);
  EXPECT_NE(error([](json& j) {
              j.erase("entries");
              j.erase("archs");
            }).find("the table is empty"),
            std::string::npos);
  EXPECT_NE(error([](json& j) { j["archs"][0].erase("accuracy"); }).find("archs[0].accuracy: missing required field"),
            std::string::npos);
}

// ---- Search -----------------------------------------------------------------------

TEST(Evolution, EveryEvaluatedCandidateFitsAndInfeasibleOnesAreNeverEvaluated) {
  EvolutionConfig c = SmallConfig(20, 4);
  c.subspace = {0.5, 144};
  c.constraints.peak_sram_kb = Limit::Value(200);
  c.constraints.fps = Limit::Value(2);  // 500 ms on the F746
  RecordingEvaluator rec;
  EvolutionSearch s(c, LoadSearchSpace(kSpace), &rec);
  s.Run();
  ASSERT_EQ(s.state().history.size(), rec.seen.size());
  EXPECT_EQ(rec.calls, 5);  // one batch per generation
  EXPECT_EQ(static_cast<int>(s.state().history.size()), 20 * 5);
  EXPECT_GT(s.state().rejected_infeasible, 0);  // the constraints bind in this sub-space
  const Board f746 = FindBoard("stm32f746");
  CostEvaluator cost("tinyengine");
  for (size_t i = 0; i < rec.seen.size(); ++i) {
    const CostReport& r = cost.Evaluate(rec.seen[i]);
    EXPECT_LE(r.peak_sram_bytes(), 200 * 1024) << i;
    EXPECT_LE(r.flash_bytes(), f746.flash_bytes) << i;
    const double ms = LatencyModel::Default().EstimateMs(cost.graph(), f746);
    EXPECT_LE(ms, 500.0) << i;
    const Candidate& cand = s.state().history[i];
    EXPECT_EQ(cand.cost.peak_sram_bytes, r.peak_sram_bytes());
    EXPECT_EQ(cand.cost.flash_bytes, r.flash_bytes());
    EXPECT_DOUBLE_EQ(cand.cost.latency_ms, ms);
    EXPECT_DOUBLE_EQ(cand.fitness, r.counts.macs / 1e6);
  }
  // Children are new genomes: nothing is evaluated twice.
  std::set<uint64_t> hashes;
  for (const Candidate& cand : s.state().history) hashes.insert(cand.genes.Hash());
  EXPECT_EQ(hashes.size(), s.state().history.size());
  // Generation structure: 20 random, then 10 mutations + 10 crossovers each.
  int mut = 0, cross = 0;
  for (const Candidate& cand : s.state().history) {
    if (cand.generation == 0) EXPECT_EQ(cand.origin, "random");
    mut += cand.origin == "mutation";
    cross += cand.origin == "crossover";
  }
  EXPECT_EQ(mut, 40);
  EXPECT_EQ(cross, 40);
  // The best only improves.
  for (size_t g = 1; g < s.state().stats.size(); ++g) {
    EXPECT_GE(s.state().stats[g].best_fitness, s.state().stats[g - 1].best_fitness);
  }
}

// A target genome in a sub-space where the constraints bind: SRAM and latency
// limits are exactly the target's, so the optimum (fitness 1) is feasible but
// many of its neighbours are not.
struct KnownOptimum {
  SearchSpace space = LoadSearchSpace(kSpace);
  SubSpace sub{0.5, 144};
  Genes target;
  EvolutionConfig config;

  explicit KnownOptimum(uint64_t target_seed) {
    Rng rng(target_seed);
    // A large target: the search has to go where the constraints are tight.
    do {
      target = space.Sample(rng);
    } while (CountArch(space.Decode(sub, target)).macs < 50e6);
    CostEvaluator cost("tinyengine");
    const CostReport& r = cost.Evaluate(space.Decode(sub, target));
    const double ms = LatencyModel::Default().EstimateMs(cost.graph(), FindBoard("stm32f746"));
    config.space = kSpace;
    config.subspace = sub;
    config.constraints.peak_sram_kb = Limit::Value(r.peak_sram_bytes() / 1024.0);
    config.constraints.flash_kb = Limit::Board();
    config.constraints.latency_ms = Limit::Value(ms);
    config.population_size = 40;
    config.parent_ratio = 0.25;
    config.generations = 30;
  }
};

TEST(Evolution, FindsAKnownOptimumUnderConstraintsAndBeatsRandomSearch) {
  double evo_sum = 0, rnd_sum = 0;
  int exact = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    KnownOptimum k(100 + seed);
    SyntheticEvaluator syn(k.space, k.sub, k.target);
    k.config.seed = seed;
    EvolutionSearch evo(k.config, k.space, &syn);
    evo.Run();
    EvolutionConfig rc = k.config;
    rc.algorithm = "random";
    EvolutionSearch rnd(rc, k.space, &syn);
    rnd.Run();
    ASSERT_EQ(evo.state().history.size(), rnd.state().history.size()) << "same number of evaluations";
    EXPECT_EQ(static_cast<int64_t>(evo.state().history.size()), k.config.budget());
    EXPECT_GT(evo.state().rejected_infeasible, 0) << "the constraints must bind";
    const double e = evo.Best().fitness, r = rnd.Best().fitness;
    // Tolerance: within 5% of the optimum (at most 2 of the ~40 choices
    // wrong); exact in most runs. Random search reaches about 0.55.
    EXPECT_GE(e, 0.95) << "seed " << seed << ": best " << evo.Best().genes.ToString() << " target "
                       << k.target.ToString();
    EXPECT_GT(e, r) << "seed " << seed;
    exact += evo.Best().genes == k.target;
    evo_sum += e;
    rnd_sum += r;
    // The optimum found satisfies the constraints.
    EXPECT_TRUE(evo.Violation(evo.Best().cost).empty());
  }
  EXPECT_GE(exact, 2) << "evolution should hit the exact optimum in most runs";
  EXPECT_GT(evo_sum / 4, rnd_sum / 4 + 0.3);
}

TEST(Evolution, SameSeedSameResultAndResumeFromCheckpointIsExact) {
  const SearchSpace space = LoadSearchSpace(kSpace);
  EvolutionConfig c = SmallConfig(16, 5);
  c.constraints.peak_sram_kb = Limit::Value(200);
  MacsEvaluator macs;
  EvolutionSearch a(c, space, &macs);
  a.Run();
  EvolutionSearch b(c, space, &macs);
  b.Run();
  EXPECT_EQ(a.HistoryJson(), b.HistoryJson());

  // Interrupted after generation 2, resumed from the checkpoint file.
  const std::string dir = FreshDir("resume_inprocess");
  {
    EvolutionSearch first(c, space, &macs, dir);
    while (first.state().generations_done < 2) first.Step();
  }
  EvolutionSearch resumed(LoadEvolutionCheckpoint(dir), &macs, dir);
  EXPECT_EQ(resumed.state().generations_done, 2);
  resumed.Run();
  EXPECT_EQ(resumed.HistoryJson(), a.HistoryJson());
  EXPECT_EQ(ArchToJson(resumed.BestArch()), ArchToJson(a.BestArch()));
  EXPECT_EQ(resumed.state().rng, a.state().rng);
  for (const char* f : {"best_arch.json", "history.json", "history.csv", "summary.json", "checkpoint.json"}) {
    EXPECT_TRUE(fs::exists(fs::path(dir) / f)) << f;
  }
  const json summary = ReadJsonFile(dir + "/summary.json");
  EXPECT_EQ(summary["best"]["id"], a.Best().id);
  EXPECT_LE(summary["best"]["peak_sram_bytes"].get<int64_t>(), 200 * 1024);
  EXPECT_EQ(ReadText(dir + "/history.csv").substr(0, 14), "id,generation,");

  // A different seed gives a different search.
  c.seed = 8;
  EvolutionSearch other(c, space, &macs);
  other.Run();
  EXPECT_NE(other.HistoryJson(), a.HistoryJson());
}

TEST(Evolution, FailingEvaluatorsMarkCandidatesAndTheSearchGoesOn) {
  const SearchSpace space = LoadSearchSpace(kSpace);
  EvolutionConfig c = SmallConfig(20, 4);
  Rng rng(9);
  SyntheticOptions o;
  o.nan_fraction = 0.15;
  o.throw_fraction = 0.1;
  SyntheticEvaluator syn(space, c.subspace, space.Sample(rng), o);
  EvolutionSearch s(c, space, &syn);
  s.Run();
  int nan = 0, threw = 0;
  for (const Candidate& cand : s.state().history) {
    if (!cand.failed) {
      EXPECT_TRUE(std::isfinite(cand.fitness));
      continue;
    }
    nan += cand.error == "evaluator returned NaN";
    threw += cand.error.find("evaluator threw: synthetic evaluator: injected failure") != std::string::npos;
  }
  EXPECT_GT(nan, 0);
  EXPECT_GT(threw, 0);
  EXPECT_EQ(static_cast<int>(s.state().history.size()), 100);
  for (int64_t id : s.state().population) EXPECT_FALSE(s.state().history[id].failed);
  EXPECT_FALSE(s.Best().failed);
  // Failed candidates are stored with null fitness and their reason.
  const json h = s.HistoryJson();
  bool found = false;
  for (const json& cand : h["candidates"]) {
    if (cand["failed"].get<bool>()) {
      EXPECT_TRUE(cand["fitness"].is_null());
      EXPECT_FALSE(cand["error"].get<std::string>().empty());
      found = true;
    }
  }
  EXPECT_TRUE(found);

  // Wrong result sizes and a C++ callback that always throws.
  CallbackEvaluator wrong("wrong", [](const std::vector<Arch>&) { return std::vector<double>{1.0}; });
  c.generations = 0;
  c.population_size = 4;
  EvolutionSearch w(c, space, &wrong);
  w.Run();  // batch fails, one-by-one succeeds
  EXPECT_EQ(w.state().history.size(), 4u);
  for (const Candidate& cand : w.state().history) EXPECT_FALSE(cand.failed);
  CallbackEvaluator broken("broken", [](const std::vector<Arch>&) -> std::vector<double> {
    throw std::runtime_error("CUDA out of memory");
  });
  EvolutionSearch b(c, space, &broken);
  const std::string e = ErrorOf([&] { b.Run(); });
  EXPECT_NE(e.find("every candidate of the first population failed"), std::string::npos) << e;
  EXPECT_NE(e.find("CUDA out of memory"), std::string::npos) << e;
}

TEST(Evolution, OnEvaluatorErrorStopEndsTheSearchWithTheMessage) {
  const SearchSpace space = LoadSearchSpace(kSpace);
  EvolutionConfig c = SmallConfig(20, 4);
  EXPECT_EQ(c.on_evaluator_error, "continue");
  c.on_evaluator_error = "stop";
  EXPECT_EQ(EvolutionConfig::FromJson(c.ToJson(), "cfg", "").on_evaluator_error, "stop");
  int calls = 0;
  CallbackEvaluator flaky("flaky", [&](const std::vector<Arch>& archs) -> std::vector<double> {
    if (++calls == 3) throw std::runtime_error("disk full");
    return std::vector<double>(archs.size(), 1.0);
  });
  EvolutionSearch s(c, space, &flaky);
  const std::string e = ErrorOf([&] { s.Run(); });
  EXPECT_NE(e.find("on_evaluator_error"), std::string::npos) << e;
  EXPECT_NE(e.find("disk full"), std::string::npos) << e;
  EXPECT_EQ(calls, 3);  // no retries one by one
}

TEST(Evolution, NothingFitsSaysSoWithTheSmallestPeak) {
  EvolutionConfig c = SmallConfig(10, 2);
  c.subspace = {1.0, 224};
  c.max_initial_attempts = 200;
  MacsEvaluator macs;
  EvolutionSearch s(c, LoadSearchSpace(kSpace), &macs);
  const std::string e = ErrorOf([&] { s.Run(); });
  EXPECT_NE(e.find("no network of sub-space w1-r224 of space 'mcunet' fits stm32f746"), std::string::npos) << e;
  EXPECT_NE(e.find("smallest peak SRAM sampled"), std::string::npos) << e;
  EXPECT_NE(e.find("the smallest network of the sub-space"), std::string::npos) << e;
  EXPECT_NE(e.find("0 of 200 random samples"), std::string::npos) << e;
}

// ---- CLI ---------------------------------------------------------------------------------

std::string WriteConfig(const std::string& dir, int generations, int delay_ms) {
  const json cfg = {{"schema_version", 1},
                    {"kind", "evolution_config"},
                    {"space", kSpace},
                    {"subspace", "w0.5-r144"},
                    {"board", "stm32f746"},
                    {"constraints", {{"peak_sram_kb", 200}, {"fps", 2}}},
                    {"evaluator", {{"kind", "synthetic"}, {"target_seed", 3}, {"delay_ms", delay_ms},
                                   {"nan_fraction", 0.05}}},
                    {"population_size", 12},
                    {"parent_ratio", 0.25},
                    {"generations", generations},
                    {"seed", 42}};
  const std::string path = dir + "/config.json";
  WriteJsonFile(cfg, path);
  return path;
}

int CheckpointGeneration(const std::string& dir) {
  const std::string path = dir + "/checkpoint.json";
  if (!fs::exists(path)) return -1;
  try {
    return ReadJsonFile(path)["state"]["generations_done"].get<int>();
  } catch (const std::exception&) {
    return -1;
  }
}

TEST(SearchCli, KilledWithSigkillAndResumedEqualsUninterrupted) {
  const std::string base = FreshDir("sigkill");
  const std::string cfg = WriteConfig(base, 8, 40);
  const std::string ref = base + "/ref", killed = base + "/killed";

  CliResult r = RunCli("search --config " + cfg + " --out " + ref);
  ASSERT_EQ(r.status, 0) << r.out;

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    execl(MCUNET_CLI, MCUNET_CLI, "search", "--config", cfg.c_str(), "--out", killed.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CheckpointGeneration(killed) < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the search finished before it could be killed";
  const int at = CheckpointGeneration(killed);
  ASSERT_GE(at, 2);
  ASSERT_LT(at, 8);
  EXPECT_FALSE(fs::exists(killed + "/summary.json"));

  r = RunCli("search --resume " + killed);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(ReadText(killed + "/best_arch.json"), ReadText(ref + "/best_arch.json"));
  EXPECT_EQ(ReadText(killed + "/history.json"), ReadText(ref + "/history.json"));
  EXPECT_EQ(ReadText(killed + "/history.csv"), ReadText(ref + "/history.csv"));
  EXPECT_EQ(ReadJsonFile(killed + "/summary.json"), ReadJsonFile(ref + "/summary.json"));
  EXPECT_EQ(ReadJsonFile(killed + "/history.json")["candidates"].size(), 12u * 9);
}

TEST(SearchCli, RunsExtendsAndRejectsBadInput) {
  const std::string base = FreshDir("cli");
  const std::string out = base + "/run";
  CliResult r = RunCli("search --space " + kSpace +
                       " --subspace w0.4-r128 --population 10 --generations 2 --seed 3 --fps 3 --out " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("latency <= 333.3 ms (3 FPS)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("peak SRAM"), std::string::npos) << r.out;
  const json summary = ReadJsonFile(out + "/summary.json");
  EXPECT_LE(summary["best"]["latency_ms"].get<double>(), 1000.0 / 3);
  EXPECT_EQ(summary["evaluated"], 30);
  const Arch best = LoadArch(out + "/best_arch.json");
  EXPECT_EQ(best.resolution, 128);

  // Extending a finished search: 2 more generations.
  r = RunCli("search --resume " + out + " --generations 4");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(ReadJsonFile(out + "/summary.json")["evaluated"], 50);

  // The same output directory twice, bad flags, nothing fits.
  r = RunCli("search --space " + kSpace + " --subspace w0.4-r128 --out " + out);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("already holds a search"), std::string::npos) << r.out;
  r = RunCli("search --resume " + out + " --seed 4");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("only --generations may be given"), std::string::npos) << r.out;
  r = RunCli("search --resume " + base + "/nothing");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("no checkpoint"), std::string::npos) << r.out;
  r = RunCli("search --space " + kSpace + " --subspace w0.4-r128 --sram-kb lots --out " + base + "/x");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--sram-kb"), std::string::npos) << r.out;
  r = RunCli("search --space " + kSpace + " --subspace w0.4-r128 --evaluator table --out " + base + "/y");
  EXPECT_EQ(r.status, 2) << r.out;
  r = RunCli("search --out " + base + "/z");
  EXPECT_EQ(r.status, 2) << r.out;
  r = RunCli("search --space " + kSpace + " --subspace w1.0-r224 --population 4 --generations 1 --out " + base +
             "/big --sram-kb 64");
  EXPECT_EQ(r.status, 1 + 1) << r.out;
  EXPECT_NE(r.out.find("smallest peak SRAM"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mcunet
