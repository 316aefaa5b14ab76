#include "mcunet/evolution.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "core/json_util.h"
#include "mcunet/error.h"

namespace mcunet {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string Kb(int64_t bytes) { return Fmt("%.1f kB", static_cast<double>(bytes) / 1024.0); }

std::string AbsolutePath(const std::string& path, const std::string& base_dir) {
  if (path.empty()) return path;
  fs::path p(path);
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  return fs::absolute(p).lexically_normal().string();
}

json LimitToJson(const Limit& l) {
  switch (l.kind) {
    case Limit::Kind::kNone:
      return nullptr;
    case Limit::Kind::kBoard:
      return "board";
    case Limit::Kind::kValue:
      return l.value;
  }
  return nullptr;
}

Limit LimitFromJson(const json& v, bool allow_board, const JsonReader& r, const std::string& key) {
  const std::string prefix = "constraints.";
  if (v.is_null()) return Limit::None();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "none") return Limit::None();
    if (s == "board" && allow_board) return Limit::Board();
  } else if (v.is_number()) {
    const double d = v.get<double>();
    if (!(d > 0) || !std::isfinite(d)) r.Fail(prefix, key, "must be a positive number, got " + v.dump());
    return Limit::Value(d);
  }
  r.Fail(prefix, key,
         std::string("expected a positive number") + (allow_board ? ", \"board\"" : "") + " or null, got " + v.dump());
}

const std::vector<std::string>& KnownConfigKeys() {
  static const std::vector<std::string> keys = {
      "schema_version", "kind",           "description",        "space",          "subspace",
      "board",          "planner",        "constraints",        "evaluator",      "algorithm",
      "population_size", "parent_ratio",  "mutation_ratio",     "mutate_prob",    "generations",
      "seed",           "unique",         "max_child_attempts", "max_initial_attempts", "latency_calibration",
      "on_evaluator_error"};
  return keys;
}

json CostToJson(const CandidateCost& c) {
  return {{"macs", c.macs},
          {"params", c.params},
          {"flash_bytes", c.flash_bytes},
          {"peak_sram_bytes", c.peak_sram_bytes},
          {"latency_ms", c.latency_ms}};
}

json CandidateToJson(const Candidate& c) {
  json j = {{"id", c.id},
            {"generation", c.generation},
            {"origin", c.origin},
            {"parents", json::array()},
            {"genes", GenesToJson(c.genes)},
            {"fitness", c.failed ? json(nullptr) : json(c.fitness)},
            {"failed", c.failed}};
  if (c.parent_a >= 0) j["parents"].push_back(c.parent_a);
  if (c.parent_b >= 0) j["parents"].push_back(c.parent_b);
  if (c.failed) j["error"] = c.error;
  j.update(CostToJson(c.cost));
  return j;
}

Candidate CandidateFromJson(const json& j, const JsonReader& r, const std::string& prefix) {
  Candidate c;
  c.id = r.Get<int64_t>(j, "id", prefix);
  c.generation = r.Get<int>(j, "generation", prefix);
  c.origin = r.Get<std::string>(j, "origin", prefix);
  const json& parents = r.Array(j, "parents", prefix);
  if (parents.size() > 2) r.Fail(prefix, "parents", "at most two parents");
  if (parents.size() >= 1) c.parent_a = parents[0].get<int64_t>();
  if (parents.size() >= 2) c.parent_b = parents[1].get<int64_t>();
  c.genes = GenesFromJson(r.Object(j, "genes", prefix), r.source() + ": " + prefix + "genes");
  c.failed = r.Get<bool>(j, "failed", prefix);
  if (c.failed) {
    c.error = r.Get<std::string>(j, "error", prefix, std::string());
  } else {
    c.fitness = r.Get<double>(j, "fitness", prefix);
  }
  c.cost.macs = r.Get<int64_t>(j, "macs", prefix);
  c.cost.params = r.Get<int64_t>(j, "params", prefix);
  c.cost.flash_bytes = r.Get<int64_t>(j, "flash_bytes", prefix);
  c.cost.peak_sram_bytes = r.Get<int64_t>(j, "peak_sram_bytes", prefix);
  c.cost.latency_ms = r.Get<double>(j, "latency_ms", prefix);
  return c;
}

json StatsToJson(const GenerationStats& s) {
  return {{"generation", s.generation},
          {"best_id", s.best_id},
          {"best_fitness", s.best_fitness},
          {"mean_parent_fitness", s.mean_parent_fitness},
          {"evaluated", s.evaluated},
          {"failed", s.failed},
          {"rejected_infeasible", s.rejected_infeasible},
          {"rejected_duplicate", s.rejected_duplicate}};
}

GenerationStats StatsFromJson(const json& j, const JsonReader& r, const std::string& prefix) {
  GenerationStats s;
  s.generation = r.Get<int>(j, "generation", prefix);
  s.best_id = r.Get<int64_t>(j, "best_id", prefix);
  s.best_fitness = r.Get<double>(j, "best_fitness", prefix);
  s.mean_parent_fitness = r.Get<double>(j, "mean_parent_fitness", prefix);
  s.evaluated = r.Get<int>(j, "evaluated", prefix);
  s.failed = r.Get<int>(j, "failed", prefix);
  s.rejected_infeasible = r.Get<int64_t>(j, "rejected_infeasible", prefix);
  s.rejected_duplicate = r.Get<int64_t>(j, "rejected_duplicate", prefix);
  return s;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

bool SameW(double a, double b) { return std::fabs(a - b) < 1e-9; }

}  // namespace

// ---- Constraints ----------------------------------------------------------------

std::string Constraints::ToString() const {
  std::string s;
  const auto add = [&s](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
  if (max_peak_sram_bytes) add("peak SRAM <= " + Kb(*max_peak_sram_bytes));
  if (max_flash_bytes) add("Flash <= " + Kb(*max_flash_bytes));
  if (max_latency_ms) add("latency <= " + Fmt("%.1f ms", *max_latency_ms) + Fmt(" (%.3g FPS)", 1000.0 / *max_latency_ms));
  return s.empty() ? "no constraints" : s;
}

Constraints ResolveConstraints(const ConstraintConfig& c, const Board& board) {
  Constraints out;
  const auto bytes = [](const Limit& l, int64_t board_bytes) -> std::optional<int64_t> {
    if (l.kind == Limit::Kind::kBoard) return board_bytes;
    if (l.kind == Limit::Kind::kValue) return static_cast<int64_t>(std::llround(l.value * 1024.0));
    return std::nullopt;
  };
  out.max_peak_sram_bytes = bytes(c.peak_sram_kb, board.sram_bytes);
  out.max_flash_bytes = bytes(c.flash_kb, board.flash_bytes);
  if (c.latency_ms.kind == Limit::Kind::kValue) out.max_latency_ms = c.latency_ms.value;
  if (c.fps.kind == Limit::Kind::kValue) out.max_latency_ms = FpsToLatencyMs(c.fps.value);
  return out;
}

// ---- Config ---------------------------------------------------------------------

EvolutionConfig::EvolutionConfig() : evaluator({{"kind", "macs"}}) {}

int EvolutionConfig::num_parents() const {
  return std::max(1, static_cast<int>(std::lround(population_size * parent_ratio)));
}
int EvolutionConfig::num_mutations() const { return static_cast<int>(std::lround(population_size * mutation_ratio)); }
int EvolutionConfig::num_crossovers() const { return population_size - num_mutations(); }
int64_t EvolutionConfig::budget() const { return int64_t{population_size} * (generations + 1); }

void EvolutionConfig::Validate(const std::string& source) const {
  JsonReader r(source);
  if (space.empty()) r.Fail("", "space", "missing: the search space file");
  if (population_size < 2) r.Fail("", "population_size", "must be >= 2, got " + std::to_string(population_size));
  if (!(parent_ratio > 0 && parent_ratio <= 1)) r.Fail("", "parent_ratio", "must be in (0, 1], got " + Fmt("%g", parent_ratio));
  if (!(mutation_ratio >= 0 && mutation_ratio <= 1)) {
    r.Fail("", "mutation_ratio", "must be in [0, 1], got " + Fmt("%g", mutation_ratio));
  }
  if (!(mutate_prob >= 0 && mutate_prob <= 1)) r.Fail("", "mutate_prob", "must be in [0, 1], got " + Fmt("%g", mutate_prob));
  if (generations < 0) r.Fail("", "generations", "must be >= 0, got " + std::to_string(generations));
  if (max_child_attempts < 1) r.Fail("", "max_child_attempts", "must be >= 1");
  if (max_initial_attempts < population_size) r.Fail("", "max_initial_attempts", "must be >= population_size");
  if (algorithm != "evolution" && algorithm != "random") {
    r.Fail("", "algorithm", "expected \"evolution\" or \"random\", got \"" + algorithm + "\"");
  }
  if (constraints.latency_ms.kind != Limit::Kind::kNone && constraints.fps.kind != Limit::Kind::kNone) {
    r.Fail("constraints.", "fps", "give either latency_ms or fps, not both");
  }
  if (constraints.latency_ms.kind == Limit::Kind::kBoard || constraints.fps.kind == Limit::Kind::kBoard) {
    r.Fail("constraints.", "latency_ms", "\"board\" is only meaningful for peak_sram_kb and flash_kb");
  }
  if (!evaluator.is_object() || !evaluator.contains("kind")) {
    r.Fail("", "evaluator", "expected an object with a \"kind\" (macs, table, synthetic), got " + evaluator.dump());
  }
  if (on_evaluator_error != "continue" && on_evaluator_error != "stop") {
    r.Fail("", "on_evaluator_error",
           "expected \"continue\" or \"stop\", got \"" + on_evaluator_error + "\"" +
               DidYouMean(on_evaluator_error, {"continue", "stop"}));
  }
  MakePlanner(planner);  // throws InvalidInput listing the planners
}

SubSpace ParseSubSpaceLabel(const std::string& label, const std::string& where) {
  const auto fail = [&] {
    throw InvalidInput(where + ": expected a sub-space label such as \"w0.5-r160\", got \"" + label + "\"");
  };
  if (label.size() < 4 || label[0] != 'w') fail();
  const size_t dash = label.find("-r");
  if (dash == std::string::npos) fail();
  SubSpace s;
  try {
    size_t used = 0;
    s.width_mult = std::stod(label.substr(1, dash - 1), &used);
    if (used != dash - 1) fail();
    s.resolution = std::stoi(label.substr(dash + 2), &used);
    if (used != label.size() - dash - 2) fail();
  } catch (const std::logic_error&) {
    fail();
  }
  return s;
}

EvolutionConfig EvolutionConfig::FromJson(const json& j, const std::string& source, const std::string& base_dir) {
  JsonReader r(source);
  if (!j.is_object()) throw InvalidInput(source + ": expected a JSON object (an evolution config)");
  const int version = r.Get<int>(j, "schema_version");
  if (version != kEvolutionConfigSchemaVersion) {
    r.Fail("", "schema_version",
           "unsupported version " + std::to_string(version) + " (expected " +
               std::to_string(kEvolutionConfigSchemaVersion) + ")");
  }
  const std::string kind = r.Get<std::string>(j, "kind");
  if (kind != "evolution_config") r.Fail("", "kind", "expected \"evolution_config\", got \"" + kind + "\"");
  r.CheckKeys(j, KnownConfigKeys());

  EvolutionConfig c;
  c.space = AbsolutePath(r.Get<std::string>(j, "space"), base_dir);
  const json& sub = j.contains("subspace") ? j["subspace"] : json();
  if (sub.is_string()) {
    c.subspace = ParseSubSpaceLabel(sub.get<std::string>(), source + ": subspace");
  } else if (sub.is_object()) {
    c.subspace.width_mult = r.Get<double>(sub, "width_mult", "subspace.");
    c.subspace.resolution = r.Get<int>(sub, "resolution", "subspace.");
  } else {
    r.Fail("", "subspace", "required: a label such as \"w0.5-r160\" or {\"width_mult\": 0.5, \"resolution\": 160}");
  }
  c.board = r.Get<std::string>(j, "board", "", std::string(kDefaultBoard));
  if (c.board.size() > 5 && c.board.substr(c.board.size() - 5) == ".json") c.board = AbsolutePath(c.board, base_dir);
  c.planner = r.Get<std::string>(j, "planner", "", std::string(kDefaultPlanner));
  if (j.contains("constraints")) {
    const json& cj = r.Object(j, "constraints");
    r.CheckKeys(cj, {"peak_sram_kb", "flash_kb", "latency_ms", "fps"}, "constraints.", "constraint");
    for (auto it = cj.begin(); it != cj.end(); ++it) {
      const std::string& k = it.key();
      if (k == "peak_sram_kb") {
        c.constraints.peak_sram_kb = LimitFromJson(*it, true, r, k);
      } else if (k == "flash_kb") {
        c.constraints.flash_kb = LimitFromJson(*it, true, r, k);
      } else if (k == "latency_ms") {
        c.constraints.latency_ms = LimitFromJson(*it, false, r, k);
      } else if (k == "fps") {
        c.constraints.fps = LimitFromJson(*it, false, r, k);
      } else {
        r.Fail("constraints.", k, "unknown constraint (known: peak_sram_kb, flash_kb, latency_ms, fps)");
      }
    }
  }
  if (j.contains("evaluator")) c.evaluator = ResolveEvaluatorSpec(r.Object(j, "evaluator"), base_dir);
  c.algorithm = r.Get<std::string>(j, "algorithm", "", c.algorithm);
  c.population_size = r.Get<int>(j, "population_size", "", c.population_size);
  c.parent_ratio = r.Get<double>(j, "parent_ratio", "", c.parent_ratio);
  c.mutation_ratio = r.Get<double>(j, "mutation_ratio", "", c.mutation_ratio);
  c.mutate_prob = r.Get<double>(j, "mutate_prob", "", c.mutate_prob);
  c.generations = r.Get<int>(j, "generations", "", c.generations);
  if (j.contains("seed") && j["seed"].is_number_integer() && j["seed"].get<int64_t>() < 0 && !j["seed"].is_number_unsigned()) {
    r.Fail("", "seed", "must be >= 0");
  }
  c.seed = r.Get<uint64_t>(j, "seed", "", c.seed);
  c.unique = r.Get<bool>(j, "unique", "", c.unique);
  c.max_child_attempts = r.Get<int>(j, "max_child_attempts", "", c.max_child_attempts);
  c.max_initial_attempts = r.Get<int64_t>(j, "max_initial_attempts", "", c.max_initial_attempts);
  c.latency_calibration = AbsolutePath(r.Get<std::string>(j, "latency_calibration", "", std::string()), base_dir);
  c.on_evaluator_error = r.Get<std::string>(j, "on_evaluator_error", "", c.on_evaluator_error);
  c.Validate(source);
  return c;
}

EvolutionConfig EvolutionConfig::Load(const std::string& path) {
  return FromJson(ReadJsonFile(path), path, fs::path(path).parent_path().string());
}

json EvolutionConfig::ToJson() const {
  return {{"schema_version", kEvolutionConfigSchemaVersion},
          {"kind", "evolution_config"},
          {"space", space},
          {"subspace", {{"width_mult", subspace.width_mult}, {"resolution", subspace.resolution}}},
          {"board", board},
          {"planner", planner},
          {"constraints",
           {{"peak_sram_kb", LimitToJson(constraints.peak_sram_kb)},
            {"flash_kb", LimitToJson(constraints.flash_kb)},
            {"latency_ms", LimitToJson(constraints.latency_ms)},
            {"fps", LimitToJson(constraints.fps)}}},
          {"evaluator", evaluator},
          {"algorithm", algorithm},
          {"population_size", population_size},
          {"parent_ratio", parent_ratio},
          {"mutation_ratio", mutation_ratio},
          {"mutate_prob", mutate_prob},
          {"generations", generations},
          {"seed", seed},
          {"unique", unique},
          {"max_child_attempts", max_child_attempts},
          {"max_initial_attempts", max_initial_attempts},
          {"latency_calibration", latency_calibration},
          {"on_evaluator_error", on_evaluator_error}};
}

// ---- Checkpoint -------------------------------------------------------------------

EvolutionCheckpoint LoadEvolutionCheckpoint(const std::string& dir) {
  const std::string path = (fs::path(dir) / "checkpoint.json").string();
  if (!fs::exists(path)) {
    throw FileNotFound(path + ": no checkpoint (is " + dir + " the --out directory of a search?)");
  }
  const json j = ReadJsonFile(path);
  JsonReader r(path);
  const int version = r.Get<int>(j, "schema_version");
  if (version != kEvolutionCheckpointSchemaVersion) {
    r.Fail("", "schema_version", "unsupported version " + std::to_string(version));
  }
  const std::string kind = r.Get<std::string>(j, "kind");
  if (kind != "evolution_checkpoint") r.Fail("", "kind", "expected \"evolution_checkpoint\", got \"" + kind + "\"");
  EvolutionCheckpoint cp;
  cp.config = EvolutionConfig::FromJson(r.Object(j, "config"), path + ": config", "");
  cp.space = SearchSpaceFromJson(r.Object(j, "space"), path + ": space");
  const json& st = r.Object(j, "state");
  EvolutionState& s = cp.state;
  s.generations_done = r.Get<int>(st, "generations_done", "state.");
  s.rng = Rng::FromJson(r.Object(st, "rng", "state."), path + ": state.rng");
  s.rejected_infeasible = r.Get<int64_t>(st, "rejected_infeasible", "state.");
  s.rejected_duplicate = r.Get<int64_t>(st, "rejected_duplicate", "state.");
  const json& hist = r.Array(st, "history", "state.");
  for (size_t i = 0; i < hist.size(); ++i) {
    Candidate c = CandidateFromJson(hist[i], r, "state.history[" + std::to_string(i) + "].");
    if (c.id != static_cast<int64_t>(i)) r.Fail("state.history[" + std::to_string(i) + "].", "id", "out of order");
    s.history.push_back(std::move(c));
  }
  const json& pop = r.Array(st, "population", "state.");
  for (const json& id : pop) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= static_cast<int64_t>(s.history.size())) {
      r.Fail("state.", "population", "bad candidate id " + id.dump());
    }
    s.population.push_back(id.get<int64_t>());
  }
  const json& stats = r.Array(st, "stats", "state.");
  for (size_t i = 0; i < stats.size(); ++i) {
    s.stats.push_back(StatsFromJson(stats[i], r, "state.stats[" + std::to_string(i) + "]."));
  }
  return cp;
}

// ---- Search -------------------------------------------------------------------------

EvolutionSearch::EvolutionSearch(EvolutionConfig config, SearchSpace space, Evaluator* evaluator, std::string out_dir)
    : config_(std::move(config)),
      space_(std::move(space)),
      evaluator_(evaluator),
      out_dir_(std::move(out_dir)),
      cost_(config_.planner) {
  state_.rng = Rng(config_.seed);
  Init();
}

EvolutionSearch::EvolutionSearch(EvolutionCheckpoint cp, Evaluator* evaluator, std::string out_dir)
    : config_(std::move(cp.config)),
      space_(std::move(cp.space)),
      evaluator_(evaluator),
      out_dir_(std::move(out_dir)),
      cost_(config_.planner) {
  state_ = std::move(cp.state);
  Init();
  for (const Candidate& c : state_.history) {
    space_.ValidateGenes(c.genes);
  }
}

EvolutionSearch::~EvolutionSearch() = default;

void EvolutionSearch::Init() {
  if (evaluator_ == nullptr) throw InvalidInput("evolution search: no evaluator");
  config_.Validate();
  board_ = FindBoard(config_.board);
  limits_ = ResolveConstraints(config_.constraints, board_);
  if (config_.latency_calibration.empty()) {
    latency_ = &LatencyModel::Default();
  } else {
    owned_latency_ = std::make_unique<LatencyModel>(LatencyModel::Load(config_.latency_calibration));
    latency_ = owned_latency_.get();
  }
  bool w_ok = false, r_ok = false;
  for (double w : space_.width_multipliers) w_ok = w_ok || SameW(w, config_.subspace.width_mult);
  for (int res : space_.resolutions) r_ok = r_ok || res == config_.subspace.resolution;
  if (!w_ok || !r_ok) {
    std::string ws, rs;
    for (double w : space_.width_multipliers) ws += (ws.empty() ? "" : ", ") + Fmt("%g", w);
    for (int res : space_.resolutions) rs += (rs.empty() ? "" : ", ") + std::to_string(res);
    throw InvalidInput("subspace " + config_.subspace.Label() + " is not in space '" + space_.name + "' (" +
                       (!w_ok ? "width multipliers: " + ws : "resolutions: " + rs) + ")");
  }
  seen_.clear();
  for (const Candidate& c : state_.history) seen_.insert(c.genes.Hash());
}

CandidateCost EvolutionSearch::Cost(const Genes& genes) {
  space_.DecodeInto(config_.subspace, genes, &scratch_arch_);
  const CostReport& r = cost_.Evaluate(scratch_arch_);
  CandidateCost c;
  c.macs = r.counts.macs;
  c.params = r.counts.params;
  c.flash_bytes = r.flash_bytes();
  c.peak_sram_bytes = r.peak_sram_bytes();
  c.latency_ms = latency_->EstimateMs(cost_.graph(), board_);
  return c;
}

std::string EvolutionSearch::Violation(const CandidateCost& c) const {
  std::string s;
  const auto add = [&s](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
  if (limits_.max_peak_sram_bytes && c.peak_sram_bytes > *limits_.max_peak_sram_bytes) {
    add("peak SRAM " + Kb(c.peak_sram_bytes) + " > " + Kb(*limits_.max_peak_sram_bytes));
  }
  if (limits_.max_flash_bytes && c.flash_bytes > *limits_.max_flash_bytes) {
    add("Flash " + Kb(c.flash_bytes) + " > " + Kb(*limits_.max_flash_bytes));
  }
  if (limits_.max_latency_ms && c.latency_ms > *limits_.max_latency_ms) {
    add("latency " + Fmt("%.1f ms", c.latency_ms) + " > " + Fmt("%.1f ms", *limits_.max_latency_ms));
  }
  return s;
}

bool EvolutionSearch::Accept(const Genes& g, CandidateCost* cost, GenerationStats* st) {
  const uint64_t h = g.Hash();
  if (config_.unique && seen_.count(h)) {
    ++st->rejected_duplicate;
    return false;
  }
  *cost = Cost(g);
  if (!smallest_sram_ || cost->peak_sram_bytes < smallest_sram_->peak_sram_bytes) smallest_sram_ = *cost;
  if (!Violation(*cost).empty()) {
    ++st->rejected_infeasible;
    return false;
  }
  seen_.insert(h);
  return true;
}

std::optional<EvolutionSearch::Proposal> EvolutionSearch::RandomProposal(GenerationStats* st) {
  for (int a = 0; a < config_.max_child_attempts; ++a) {
    Proposal p;
    p.genes = space_.Sample(state_.rng);
    p.origin = "random";
    if (Accept(p.genes, &p.cost, st)) return p;
  }
  return std::nullopt;
}

void EvolutionSearch::SortPopulation(std::vector<int64_t>* ids) const {
  std::vector<int64_t>& v = *ids;
  v.erase(std::remove_if(v.begin(), v.end(), [&](int64_t id) { return state_.history[id].failed; }), v.end());
  std::sort(v.begin(), v.end(), [&](int64_t a, int64_t b) {
    const double fa = state_.history[a].fitness, fb = state_.history[b].fitness;
    if (fa != fb) return fa > fb;
    return a < b;
  });
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

void EvolutionSearch::EvaluateAndRecord(std::vector<Proposal> proposals, int generation, GenerationStats* st) {
  const size_t n = proposals.size();
  std::vector<Arch> archs;
  archs.reserve(n);
  for (const Proposal& p : proposals) archs.push_back(space_.Decode(config_.subspace, p.genes));
  std::vector<double> fitness(n, kNaN);
  std::vector<std::string> errors(n);
  if (n > 0) {
    try {
      std::vector<double> f = evaluator_->Evaluate(archs);
      if (f.size() != n) {
        throw Error("returned " + std::to_string(f.size()) + " values for " + std::to_string(n) + " architectures");
      }
      fitness = std::move(f);
    } catch (const std::exception& e) {
      if (config_.on_evaluator_error == "stop") {
        throw Error("evaluator '" + evaluator_->name() + "' failed on generation " + std::to_string(generation) +
                    " (on_evaluator_error: \"stop\"): " + e.what());
      }
      if (n == 1) {
        errors[0] = std::string("evaluator threw: ") + e.what();
      } else {
        spdlog::warn("evaluator '{}' failed on a batch of {}: {}; evaluating them one at a time", evaluator_->name(),
                     n, e.what());
        for (size_t i = 0; i < n; ++i) {
          try {
            std::vector<double> f = evaluator_->Evaluate({archs[i]});
            if (f.size() != 1) throw Error("returned " + std::to_string(f.size()) + " values for 1 architecture");
            fitness[i] = f[0];
          } catch (const std::exception& e2) {
            errors[i] = std::string("evaluator threw: ") + e2.what();
          }
        }
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    Candidate c;
    c.id = static_cast<int64_t>(state_.history.size());
    c.generation = generation;
    c.origin = proposals[i].origin;
    c.parent_a = proposals[i].parent_a;
    c.parent_b = proposals[i].parent_b;
    c.genes = std::move(proposals[i].genes);
    c.cost = proposals[i].cost;
    if (errors[i].empty() && !std::isfinite(fitness[i])) {
      errors[i] = std::isnan(fitness[i]) ? "evaluator returned NaN" : "evaluator returned an infinite fitness";
    }
    if (!errors[i].empty()) {
      c.failed = true;
      c.error = errors[i];
      ++st->failed;
      spdlog::warn("candidate {} ({}) failed: {}", c.id, c.genes.ToString(), c.error);
    } else {
      c.fitness = fitness[i];
    }
    state_.history.push_back(std::move(c));
  }
  st->evaluated += static_cast<int>(n);
}

void EvolutionSearch::InitialPopulation() {
  GenerationStats st;
  std::vector<Proposal> proposals;
  int64_t attempts = 0;
  while (static_cast<int>(proposals.size()) < config_.population_size && attempts < config_.max_initial_attempts) {
    Proposal p;
    p.genes = space_.Sample(state_.rng);
    p.origin = "random";
    ++attempts;
    if (Accept(p.genes, &p.cost, &st)) proposals.push_back(std::move(p));
  }
  if (proposals.empty()) {
    // The smallest network of the sub-space: every choice at its minimum.
    Genes min;
    for (const StageSpec& s : space_.stages) {
      const int d = *std::min_element(s.depths.begin(), s.depths.end());
      min.depths.push_back(d);
      for (int j = 0; j < s.max_depth(); ++j) {
        min.kernels.push_back(j < d ? *std::min_element(s.kernel_sizes.begin(), s.kernel_sizes.end()) : 0);
        min.expands.push_back(j < d ? *std::min_element(s.expand_ratios.begin(), s.expand_ratios.end()) : 0);
      }
    }
    const CandidateCost mc = Cost(min);
    std::string msg = "no network of sub-space " + config_.subspace.Label() + " of space '" + space_.name + "' fits " +
                      board_.name + " under " + limits_.ToString() + ": 0 of " + std::to_string(attempts) +
                      " random samples are feasible";
    if (smallest_sram_) {
      msg += "; smallest peak SRAM sampled " + Kb(smallest_sram_->peak_sram_bytes) + " (Flash " +
             Kb(smallest_sram_->flash_bytes) + ", latency " + Fmt("%.1f ms", smallest_sram_->latency_ms) + ")";
    }
    msg += "; the smallest network of the sub-space (every choice at its minimum) needs peak SRAM " +
           Kb(mc.peak_sram_bytes) + ", Flash " + Kb(mc.flash_bytes) + ", latency " + Fmt("%.1f ms", mc.latency_ms) +
           " (" + (Violation(mc).empty() ? "fits" : Violation(mc)) +
           "). Choose a smaller width multiplier or resolution, or relax the constraints.";
    throw Error(msg);
  }
  if (static_cast<int>(proposals.size()) < config_.population_size) {
    spdlog::warn("only {} of {} random samples fit ({}); the first population has {} candidates instead of {}",
                 proposals.size(), attempts, limits_.ToString(), proposals.size(), config_.population_size);
  }
  EvaluateAndRecord(std::move(proposals), 0, &st);
  std::vector<int64_t> pop;
  for (const Candidate& c : state_.history) pop.push_back(c.id);
  SortPopulation(&pop);
  if (pop.empty()) {
    throw Error("every candidate of the first population failed to evaluate (first error: " +
                state_.history.front().error + ")");
  }
  state_.population = pop;
  FinishGeneration(0, st);
}

void EvolutionSearch::NextGeneration() {
  const int generation = state_.generations_done + 1;
  GenerationStats st;
  std::vector<int64_t> parents(state_.population.begin(),
                               state_.population.begin() +
                                   std::min<size_t>(state_.population.size(), config_.num_parents()));
  std::vector<Proposal> proposals;
  const auto pick = [&]() { return parents[state_.rng.Below(parents.size())]; };
  const auto add_random = [&]() {
    if (auto p = RandomProposal(&st)) {
      proposals.push_back(std::move(*p));
    } else {
      spdlog::warn("generation {}: no feasible new candidate in {} random samples; skipping one child", generation,
                   config_.max_child_attempts);
    }
  };
  if (config_.algorithm == "random") {
    for (int i = 0; i < config_.population_size; ++i) add_random();
  } else {
    for (int i = 0; i < config_.num_mutations(); ++i) {
      bool ok = false;
      for (int a = 0; a < config_.max_child_attempts && !ok; ++a) {
        Proposal p;
        p.parent_a = pick();
        p.genes = space_.Mutate(state_.history[p.parent_a].genes, config_.mutate_prob, state_.rng);
        p.origin = "mutation";
        if (Accept(p.genes, &p.cost, &st)) {
          proposals.push_back(std::move(p));
          ok = true;
        }
      }
      if (!ok) add_random();
    }
    for (int i = 0; i < config_.num_crossovers(); ++i) {
      bool ok = false;
      for (int a = 0; a < config_.max_child_attempts && !ok; ++a) {
        Proposal p;
        p.parent_a = pick();
        p.parent_b = pick();
        p.genes = space_.Crossover(state_.history[p.parent_a].genes, state_.history[p.parent_b].genes, state_.rng);
        p.origin = "crossover";
        if (Accept(p.genes, &p.cost, &st)) {
          proposals.push_back(std::move(p));
          ok = true;
        }
      }
      if (!ok) add_random();
    }
  }
  const int64_t first_new = static_cast<int64_t>(state_.history.size());
  EvaluateAndRecord(std::move(proposals), generation, &st);
  std::vector<int64_t> pop = config_.algorithm == "random" ? state_.population : parents;
  for (int64_t id = first_new; id < static_cast<int64_t>(state_.history.size()); ++id) pop.push_back(id);
  SortPopulation(&pop);
  if (config_.algorithm == "random" && static_cast<int>(pop.size()) > config_.population_size) {
    pop.resize(config_.population_size);
  }
  state_.population = pop;
  FinishGeneration(generation, st);
}

void EvolutionSearch::FinishGeneration(int generation, GenerationStats st) {
  st.generation = generation;
  const Candidate& best = Best();
  st.best_id = best.id;
  st.best_fitness = best.fitness;
  const size_t np = std::min<size_t>(state_.population.size(), config_.num_parents());
  double sum = 0;
  for (size_t i = 0; i < np; ++i) sum += state_.history[state_.population[i]].fitness;
  st.mean_parent_fitness = np > 0 ? sum / np : kNaN;
  state_.rejected_infeasible += st.rejected_infeasible;
  state_.rejected_duplicate += st.rejected_duplicate;
  state_.stats.push_back(st);
  state_.generations_done = generation;
  spdlog::info(
      "generation {}/{}: best {:.6g} (id {}, {:.2f} M MACs, peak SRAM {}, Flash {}, {:.1f} ms); evaluated {}, "
      "failed {}, rejected {} infeasible + {} duplicates",
      generation, config_.generations, best.fitness, best.id, best.cost.macs / 1e6, Kb(best.cost.peak_sram_bytes),
      Kb(best.cost.flash_bytes), best.cost.latency_ms, st.evaluated, st.failed, st.rejected_infeasible,
      st.rejected_duplicate);
  if (!out_dir_.empty()) SaveCheckpoint(out_dir_);
}

void EvolutionSearch::Step() {
  if (done()) return;
  if (state_.generations_done < 0) {
    InitialPopulation();
  } else {
    NextGeneration();
  }
}

void EvolutionSearch::Run() {
  if (state_.generations_done >= 0) {
    spdlog::info("resuming after generation {} of {} ({} candidates evaluated)", state_.generations_done,
                 config_.generations, state_.history.size());
  }
  while (!done()) Step();
  if (!out_dir_.empty()) WriteResults(out_dir_);
}

const Candidate& EvolutionSearch::Best() const {
  const Candidate* best = nullptr;
  for (const Candidate& c : state_.history) {
    if (c.failed) continue;
    if (best == nullptr || c.fitness > best->fitness) best = &c;
  }
  if (best == nullptr) throw Error("evolution search: no successfully evaluated candidate yet");
  return *best;
}

Arch EvolutionSearch::Decode(const Candidate& c) const { return space_.Decode(config_.subspace, c.genes); }

Arch EvolutionSearch::BestArch() const { return Decode(Best()); }

// ---- Outputs ---------------------------------------------------------------------------

json EvolutionSearch::CheckpointJson() const {
  json hist = json::array();
  for (const Candidate& c : state_.history) hist.push_back(CandidateToJson(c));
  json stats = json::array();
  for (const GenerationStats& s : state_.stats) stats.push_back(StatsToJson(s));
  return {{"schema_version", kEvolutionCheckpointSchemaVersion},
          {"kind", "evolution_checkpoint"},
          {"config", config_.ToJson()},
          {"space", SearchSpaceToJson(space_)},
          {"state",
           {{"generations_done", state_.generations_done},
            {"rng", state_.rng.ToJson()},
            {"population", state_.population},
            {"rejected_infeasible", state_.rejected_infeasible},
            {"rejected_duplicate", state_.rejected_duplicate},
            {"stats", stats},
            {"history", hist}}}};
}

void EvolutionSearch::SaveCheckpoint(const std::string& dir) const {
  WriteJsonFile(CheckpointJson(), (fs::path(dir) / "checkpoint.json").string());
}

json EvolutionSearch::HistoryJson() const {
  json cands = json::array();
  for (const Candidate& c : state_.history) {
    json j = CandidateToJson(c);
    j["arch_hash"] = ArchHashHex(Decode(c));
    cands.push_back(j);
  }
  json stats = json::array();
  for (const GenerationStats& s : state_.stats) stats.push_back(StatsToJson(s));
  return {{"schema_version", 1},
          {"kind", "evolution_history"},
          {"space", space_.name},
          {"subspace", config_.subspace.Label()},
          {"board", board_.name},
          {"planner", config_.planner},
          {"constraints", limits_.ToString()},
          {"evaluator", config_.evaluator},
          {"algorithm", config_.algorithm},
          {"seed", config_.seed},
          {"generations", stats},
          {"candidates", cands}};
}

std::string EvolutionSearch::HistoryCsv() const {
  std::string s =
      "id,generation,origin,parent_a,parent_b,status,fitness,macs,params,flash_bytes,peak_sram_bytes,latency_ms,"
      "arch_hash,genes,error\n";
  for (const Candidate& c : state_.history) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%lld,%d,%s,%lld,%lld,%s,%s,%lld,%lld,%lld,%lld,%.6f,", static_cast<long long>(c.id),
                  c.generation, c.origin.c_str(), static_cast<long long>(c.parent_a),
                  static_cast<long long>(c.parent_b), c.failed ? "failed" : "ok",
                  c.failed ? "" : Fmt("%.10g", c.fitness).c_str(), static_cast<long long>(c.cost.macs),
                  static_cast<long long>(c.cost.params), static_cast<long long>(c.cost.flash_bytes),
                  static_cast<long long>(c.cost.peak_sram_bytes), c.cost.latency_ms);
    s += buf;
    s += ArchHashHex(Decode(c)) + "," + CsvField(c.genes.ToString()) + "," + CsvField(c.error) + "\n";
  }
  return s;
}

json EvolutionSearch::SummaryJson() const {
  const Candidate& b = Best();
  int64_t failed = 0;
  for (const Candidate& c : state_.history) failed += c.failed;
  json headroom = json::object();
  if (limits_.max_peak_sram_bytes) headroom["peak_sram_bytes"] = *limits_.max_peak_sram_bytes - b.cost.peak_sram_bytes;
  if (limits_.max_flash_bytes) headroom["flash_bytes"] = *limits_.max_flash_bytes - b.cost.flash_bytes;
  if (limits_.max_latency_ms) headroom["latency_ms"] = *limits_.max_latency_ms - b.cost.latency_ms;
  json limits = json::object();
  limits["peak_sram_bytes"] = limits_.max_peak_sram_bytes ? json(*limits_.max_peak_sram_bytes) : json(nullptr);
  limits["flash_bytes"] = limits_.max_flash_bytes ? json(*limits_.max_flash_bytes) : json(nullptr);
  limits["latency_ms"] = limits_.max_latency_ms ? json(*limits_.max_latency_ms) : json(nullptr);
  json best = CandidateToJson(b);
  best["arch_hash"] = ArchHashHex(Decode(b));
  best["fps"] = 1000.0 / b.cost.latency_ms;
  best["headroom"] = headroom;
  return {{"schema_version", 1},
          {"kind", "evolution_summary"},
          {"space", space_.name},
          {"subspace", config_.subspace.Label()},
          {"board", BoardToJson(board_)},
          {"planner", config_.planner},
          {"constraints", limits},
          {"constraints_text", limits_.ToString()},
          {"evaluator", config_.evaluator},
          {"algorithm", config_.algorithm},
          {"seed", config_.seed},
          {"generations_done", state_.generations_done},
          {"evaluated", state_.history.size()},
          {"failed", failed},
          {"rejected_infeasible", state_.rejected_infeasible},
          {"rejected_duplicate", state_.rejected_duplicate},
          {"latency_model", latency_->summary()},
          {"best", best}};
}

std::string EvolutionSearch::SummaryText() const {
  const Candidate& b = Best();
  int64_t failed = 0;
  for (const Candidate& c : state_.history) failed += c.failed;
  std::string s;
  s += "space        " + space_.name + " " + config_.subspace.Label() + "\n";
  s += "board        " + board_.name + " (" + Kb(board_.sram_bytes) + " SRAM, " + Kb(board_.flash_bytes) + " Flash, " +
       std::to_string(board_.clock_mhz) + " MHz), planner " + config_.planner + "\n";
  s += "constraints  " + limits_.ToString() + "\n";
  s += "search       " + config_.algorithm + ", " + std::to_string(state_.generations_done) + " generations, " +
       std::to_string(state_.history.size()) + " evaluated (" + std::to_string(failed) + " failed), " +
       std::to_string(state_.rejected_infeasible) + " infeasible and " + std::to_string(state_.rejected_duplicate) +
       " duplicate candidates rejected before evaluation\n";
  s += "best         id " + std::to_string(b.id) + " (generation " + std::to_string(b.generation) + ", " + b.origin +
       "), fitness " + Fmt("%.6g", b.fitness) + " (" + evaluator_->name() + ")\n";
  s += "  genes      " + b.genes.ToString() + "\n";
  s += "  MACs       " + Fmt("%.2f M", b.cost.macs / 1e6) + ", params " + Fmt("%.3f M", b.cost.params / 1e6) + "\n";
  s += "  peak SRAM  " + Kb(b.cost.peak_sram_bytes) +
       (limits_.max_peak_sram_bytes ? " of " + Kb(*limits_.max_peak_sram_bytes) : std::string()) + "\n";
  s += "  Flash      " + Kb(b.cost.flash_bytes) +
       (limits_.max_flash_bytes ? " of " + Kb(*limits_.max_flash_bytes) : std::string()) + "\n";
  s += "  latency    " + Fmt("%.1f ms", b.cost.latency_ms) + Fmt(" (%.2f FPS)", 1000.0 / b.cost.latency_ms) +
       (limits_.max_latency_ms ? " of " + Fmt("%.1f ms", *limits_.max_latency_ms) : std::string()) + "\n";
  return s;
}

void EvolutionSearch::WriteResults(const std::string& dir) const {
  const fs::path d(dir);
  SaveArch(BestArch(), (d / "best_arch.json").string());
  WriteJsonFile(HistoryJson(), (d / "history.json").string());
  WriteTextFile(HistoryCsv(), (d / "history.csv").string());
  WriteJsonFile(SummaryJson(), (d / "summary.json").string());
}

}  // namespace mcunet
