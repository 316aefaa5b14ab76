// Fitness of architectures for the evolution search.
//
// An Evaluator scores a whole population at a time (batched, so a supernet
// evaluator can share BN re-calibration and data loading across candidates).
// Higher fitness is better. A candidate fails when its fitness is NaN or
// infinite, or when the evaluator throws: the search then re-evaluates the
// batch one architecture at a time, marks the ones that still throw as
// failed (with the exception's message), and goes on.
//
// Shipped evaluators (MakeEvaluator builds them from JSON):
//   {"kind": "macs"}                      MACs in millions (a proxy: bigger
//                                         networks are usually more accurate)
//   {"kind": "table", "path": "acc.json"} accuracies looked up by ArchHash
//   {"kind": "synthetic", ...}            a known optimum, for tests
// Any other fitness (a Python callable through the bindings, a supernet):
// derive from Evaluator or wrap a function in CallbackEvaluator.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mcunet/arch.h"
#include "mcunet/search_space.h"

namespace mcunet {

inline constexpr int kAccuracyTableSchemaVersion = 1;

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Short name for logs and results ("macs", "table", ...).
  virtual std::string name() const = 0;
  // One fitness per architecture, in order; higher is better. NaN (or
  // throwing) marks candidates as failed.
  virtual std::vector<double> Evaluate(const std::vector<Arch>& archs) = 0;
};

// Wraps a function, e.g. a Python callable (the bindings hold the GIL inside
// `fn`). The function receives the batch and returns one value per arch.
class CallbackEvaluator : public Evaluator {
 public:
  using Fn = std::function<std::vector<double>(const std::vector<Arch>&)>;
  CallbackEvaluator(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::string name() const override { return name_; }
  std::vector<double> Evaluate(const std::vector<Arch>& archs) override { return fn_(archs); }

 private:
  std::string name_;
  Fn fn_;
};

// Fitness = MACs / 1e6 (as CountArch counts them).
class MacsEvaluator : public Evaluator {
 public:
  std::string name() const override { return "macs"; }
  std::vector<double> Evaluate(const std::vector<Arch>& archs) override;
};

// A structural 64-bit hash of an architecture (FNV-1a over resolution,
// channels, classes, first conv, every block and the feature mix; the name
// is ignored). ArchHashHex gives the 16-digit lower-case hex used as key in
// accuracy tables ("3f2a...").
uint64_t ArchHash(const Arch& arch);
std::string ArchHashHex(const Arch& arch);

// User-supplied accuracies, a JSON file:
//   {"schema_version": 1, "kind": "accuracy_table",
//    "entries": {"<ArchHashHex>": 0.712, ...},      // and/or
//    "archs": [{"arch": {<arch JSON>}, "accuracy": 0.705}, ...]}
// An architecture not in the table evaluates to NaN (failed; logged).
class TableEvaluator : public Evaluator {
 public:
  // Throws FileNotFound / InvalidInput naming the file and entry.
  static TableEvaluator Load(const std::string& path);
  static TableEvaluator FromJson(const nlohmann::json& j, const std::string& source);
  std::string name() const override { return "table"; }
  std::vector<double> Evaluate(const std::vector<Arch>& archs) override;
  size_t size() const { return table_.size(); }

 private:
  std::map<uint64_t, double> table_;
  std::string source_;
};

// For tests: fitness = fraction of the target genome's choices that a
// candidate matches (1.0 exactly at the target; every stage depth, and every
// kernel and expand ratio of the target's active slots, one point each; a
// slot inactive in the candidate scores nothing). The candidate's genes come
// from SearchSpace::Encode in `sub`. Deterministic fault injection by
// ArchHash: a fraction of candidates return NaN, another throws; an optional
// delay per batch makes runs slow enough to be killed in tests.
struct SyntheticOptions {
  double nan_fraction = 0;
  double throw_fraction = 0;
  int delay_ms = 0;
};
class SyntheticEvaluator : public Evaluator {
 public:
  SyntheticEvaluator(SearchSpace space, SubSpace sub, Genes target, SyntheticOptions options = {});
  std::string name() const override { return "synthetic"; }
  std::vector<double> Evaluate(const std::vector<Arch>& archs) override;
  // Score of genes directly (no fault injection).
  double Score(const Genes& g) const;
  const Genes& target() const { return target_; }

 private:
  SearchSpace space_;
  SubSpace sub_;
  Genes target_;
  SyntheticOptions options_;
};

// Builds an evaluator from its JSON spec (the "evaluator" field of an
// evolution config). Relative table paths are resolved against `base_dir`.
// For "synthetic": {"kind": "synthetic", "target": <genes JSON> or
// "target_seed": N (target = space.Sample(Rng(N))), "nan_fraction",
// "throw_fraction", "delay_ms"}. Throws InvalidInput naming `source`.
std::unique_ptr<Evaluator> MakeEvaluator(const nlohmann::json& spec, const std::string& source,
                                         const std::string& base_dir, const SearchSpace& space,
                                         const SubSpace& sub);
// The spec with relative paths made absolute (stored in checkpoints so that
// a resumed search does not depend on the working directory).
nlohmann::json ResolveEvaluatorSpec(const nlohmann::json& spec, const std::string& base_dir);

}  // namespace mcunet
