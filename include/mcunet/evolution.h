// Stage 2 of TinyNAS: resource-constrained evolution search within one
// sub-space (W, R) of a search space (MCUNet Sec. 3.1; the once-for-all
// evolution finder).
//
// Generation 0 samples `population_size` feasible architectures uniformly.
// Every later generation keeps the best `parent_ratio * population_size`
// candidates as parents and adds `mutation_ratio * population_size` children
// by mutation (each choice resampled with probability `mutate_prob`) and the
// rest by crossover of two random parents; the next parents are the best of
// parents + children. Defaults: population 100, 20 parents, 50 mutations,
// 50 crossovers, mutate_prob 0.1, 30 generations.
//
// Every candidate is checked against the cost model (peak SRAM under the
// chosen planner, Flash, latency model) before it is evaluated; infeasible
// candidates (and, with `unique`, genomes already evaluated) are rejected and
// resampled, never evaluated. Fitness comes from an Evaluator (evaluator.h).
//
// The state (history of every evaluated candidate with fitness and costs,
// the population, the RNG, the generation) is checkpointed atomically to
// <out>/checkpoint.json after every generation. A search resumed from it
// (possibly after SIGKILL) ends with exactly the result of an uninterrupted
// one: all randomness comes from the checkpointed Rng, evaluation order is
// fixed, and ties are broken by candidate id.
//
// Config file (`mcunet search --config FILE`; every field but "space" and
// "subspace" optional; relative paths are relative to the file; unknown
// fields are errors):
//
//   {"schema_version": 1, "kind": "evolution_config",
//    "space": "search_spaces/mcunet.json", "subspace": "w0.5-r208",
//    "board": "stm32f746", "planner": "tinyengine",
//    "constraints": {"peak_sram_kb": "board", "flash_kb": "board",
//                    "fps": 5},              // or "latency_ms": 200
//    "evaluator": {"kind": "macs"},          // or table / synthetic
//    "algorithm": "evolution",               // or "random" (baseline)
//    "population_size": 100, "parent_ratio": 0.2, "mutation_ratio": 0.5,
//    "mutate_prob": 0.1, "generations": 30, "seed": 0,
//    "on_evaluator_error": "continue"}       // or "stop"
//
// A missing constraint takes its default ("board" for peak SRAM and Flash,
// none for latency); null or "none" removes it.
//
// An evaluator that throws marks its candidates as failed (the message kept
// in the history, the search goes on: "continue"), or stops the search with
// an Error naming the candidate ("stop"). NaN fitness is always a failure
// that the search records.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/cost_model.h"
#include "mcunet/evaluator.h"
#include "mcunet/latency_model.h"
#include "mcunet/search_space.h"

namespace mcunet {

inline constexpr int kEvolutionConfigSchemaVersion = 1;
inline constexpr int kEvolutionCheckpointSchemaVersion = 1;

// A resource limit as configured: none, the board's capacity, or a value.
struct Limit {
  enum class Kind { kNone, kBoard, kValue };
  Kind kind = Kind::kNone;
  double value = 0;
  static Limit None() { return {}; }
  static Limit Board() { return {Kind::kBoard, 0}; }
  static Limit Value(double v) { return {Kind::kValue, v}; }
  bool operator==(const Limit&) const = default;
};

// Constraints as written in a config. Memory in kB (KiB); latency either as
// latency_ms or as fps (1000 / fps ms), not both.
struct ConstraintConfig {
  Limit peak_sram_kb = Limit::Board();
  Limit flash_kb = Limit::Board();
  Limit latency_ms;  // kNone or kValue
  Limit fps;         // kNone or kValue
  bool operator==(const ConstraintConfig&) const = default;
};

// Constraints resolved on a board, in bytes and ms. nullopt: unconstrained.
struct Constraints {
  std::optional<int64_t> max_peak_sram_bytes;
  std::optional<int64_t> max_flash_bytes;
  std::optional<double> max_latency_ms;
  // "peak SRAM <= 320 kB, Flash <= 1024 kB, latency <= 200 ms (5 FPS)"
  std::string ToString() const;
};
Constraints ResolveConstraints(const ConstraintConfig& c, const Board& board);

struct EvolutionConfig {
  std::string space;  // search space file (absolute after FromJson/resolution)
  SubSpace subspace;
  std::string board = kDefaultBoard;
  std::string planner = kDefaultPlanner;
  ConstraintConfig constraints;
  nlohmann::json evaluator;  // spec for MakeEvaluator; default {"kind": "macs"}
  std::string algorithm = "evolution";  // or "random": the baseline, same budget
  int population_size = 100;
  double parent_ratio = 0.2;
  double mutation_ratio = 0.5;
  double mutate_prob = 0.1;
  int generations = 30;
  uint64_t seed = 0;
  // Children must be genomes never evaluated before in this search.
  bool unique = true;
  // Tries per child (mutation/crossover) before it falls back to a random
  // sample; random samples per candidate before giving up on it.
  int max_child_attempts = 200;
  // Samples tried to fill the first population before deciding that
  // (almost) nothing fits.
  int64_t max_initial_attempts = 20000;
  std::string latency_calibration;  // "" = LatencyModel::Default()
  // "continue": record an evaluator's exception as a failed candidate;
  // "stop": rethrow it (as Error) and stop the search.
  std::string on_evaluator_error = "continue";

  EvolutionConfig();
  int num_parents() const;
  int num_mutations() const;
  int num_crossovers() const;
  // Evaluations of a full run: population_size * (generations + 1).
  int64_t budget() const;

  // Throws InvalidInput naming `source` and the field.
  void Validate(const std::string& source = "<config>") const;
  // {"schema_version": 1, "kind": "evolution_config", ...}. Unknown fields
  // are errors (they are usually typos). Relative paths ("space", evaluator
  // "path", "latency_calibration") are resolved against `base_dir`.
  static EvolutionConfig FromJson(const nlohmann::json& j, const std::string& source, const std::string& base_dir);
  static EvolutionConfig Load(const std::string& path);
  nlohmann::json ToJson() const;
};

// "w0.5-r160" -> {0.5, 160}. Throws InvalidInput.
SubSpace ParseSubSpaceLabel(const std::string& label, const std::string& where);

struct CandidateCost {
  int64_t macs = 0;
  int64_t params = 0;
  int64_t flash_bytes = 0;
  int64_t peak_sram_bytes = 0;
  double latency_ms = 0;
};

// One evaluated candidate (an entry of the history).
struct Candidate {
  int64_t id = -1;         // index in the history
  int generation = 0;      // 0: initial population
  std::string origin;      // "random", "mutation", "crossover"
  int64_t parent_a = -1;   // ids of the parents (-1: none)
  int64_t parent_b = -1;
  Genes genes;
  CandidateCost cost;
  double fitness = std::numeric_limits<double>::quiet_NaN();
  bool failed = false;
  std::string error;  // why it failed
};

struct GenerationStats {
  int generation = 0;
  int64_t best_id = -1;        // best so far
  double best_fitness = 0;     // best so far
  double mean_parent_fitness = 0;
  int evaluated = 0;           // evaluator calls' candidates this generation
  int failed = 0;
  int64_t rejected_infeasible = 0;  // candidates rejected this generation
  int64_t rejected_duplicate = 0;
};

struct EvolutionState {
  int generations_done = -1;  // -1: nothing yet; 0: initial population done
  Rng rng;
  std::vector<Candidate> history;
  std::vector<int64_t> population;  // ids, best first
  std::vector<GenerationStats> stats;
  int64_t rejected_infeasible = 0;
  int64_t rejected_duplicate = 0;
};

struct EvolutionCheckpoint {
  EvolutionConfig config;
  SearchSpace space;
  EvolutionState state;
};
// Reads <dir>/checkpoint.json. Throws FileNotFound / InvalidInput.
EvolutionCheckpoint LoadEvolutionCheckpoint(const std::string& dir);

class EvolutionSearch {
 public:
  // `evaluator` is not owned and must outlive the search. With a non-empty
  // `out_dir`, a checkpoint is written there after every generation and
  // Run() writes the results at the end.
  EvolutionSearch(EvolutionConfig config, SearchSpace space, Evaluator* evaluator, std::string out_dir = "");
  // Continues a checkpointed search.
  EvolutionSearch(EvolutionCheckpoint checkpoint, Evaluator* evaluator, std::string out_dir = "");
  ~EvolutionSearch();

  // Runs generations until config().generations are done; writes results
  // if out_dir is set. Throws Error if nothing fits or every candidate of
  // the first population fails.
  void Run();
  // Initial population, or one generation. No-op when done().
  void Step();
  bool done() const { return state_.generations_done >= config_.generations; }

  const EvolutionConfig& config() const { return config_; }
  const SearchSpace& space() const { return space_; }
  const Board& board() const { return board_; }
  const Constraints& constraints() const { return limits_; }
  const EvolutionState& state() const { return state_; }
  // Best successful candidate (highest fitness, lowest id on ties). Throws
  // Error if none.
  const Candidate& Best() const;
  Arch BestArch() const;
  Arch Decode(const Candidate& c) const;

  // Costs of `genes` in the search's sub-space on its board.
  CandidateCost Cost(const Genes& genes);
  // Empty if `cost` satisfies the constraints, else what fails.
  std::string Violation(const CandidateCost& cost) const;

  nlohmann::json CheckpointJson() const;
  nlohmann::json HistoryJson() const;
  std::string HistoryCsv() const;
  nlohmann::json SummaryJson() const;
  std::string SummaryText() const;
  void SaveCheckpoint(const std::string& dir) const;
  // best_arch.json, history.json, history.csv, summary.json.
  void WriteResults(const std::string& dir) const;

 private:
  struct Proposal {
    Genes genes;
    std::string origin;
    int64_t parent_a = -1, parent_b = -1;
    CandidateCost cost;
  };
  void Init();
  void InitialPopulation();
  void NextGeneration();
  // Rejects infeasible (and, with `unique`, already seen) genomes.
  bool Accept(const Genes& g, CandidateCost* cost, GenerationStats* st);
  std::optional<Proposal> RandomProposal(GenerationStats* st);
  void EvaluateAndRecord(std::vector<Proposal> proposals, int generation, GenerationStats* st);
  void SortPopulation(std::vector<int64_t>* ids) const;
  void FinishGeneration(int generation, GenerationStats st);

  EvolutionConfig config_;
  SearchSpace space_;
  Evaluator* evaluator_;
  std::string out_dir_;
  Board board_;
  Constraints limits_;
  const LatencyModel* latency_ = nullptr;
  std::unique_ptr<LatencyModel> owned_latency_;
  CostEvaluator cost_;
  Arch scratch_arch_;
  EvolutionState state_;
  std::unordered_set<uint64_t> seen_;
  // Smallest costs among sampled candidates (for "nothing fits" messages).
  std::optional<CandidateCost> smallest_sram_;
};

}  // namespace mcunet
