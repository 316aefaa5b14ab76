// Bindings of TinyNAS stage 2: the resource-constrained evolution search,
// with the shipped evaluators (by spec) or a Python callable as fitness.
//
// A Python evaluator is called with the GIL held, from the thread that runs
// the search (which releases the GIL while C++ works). Its exceptions are
// recorded as failed candidates (on_error="record", the default unless the
// config says on_evaluator_error: "stop") or stop the search and propagate
// (on_error="raise"); KeyboardInterrupt and other
// BaseExceptions that are not Exceptions always stop it.

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "mcunet/error.h"
#include "mcunet/evaluator.h"
#include "mcunet/evolution.h"
#include "mcunet/search_space.h"

namespace mcunet::python {

namespace {

using pybind11::literals::operator""_a;

// Thrown through the search (not a std::exception, so its catch blocks for
// evaluator failures let it pass) when a Python error must stop the search.
struct AbortSearch {};

// An EvolutionSearch with the evaluator it points to and the Python objects
// that must outlive it.
struct PySearch {
  py::object callable;                 // a Python evaluator, kept alive
  std::unique_ptr<Evaluator> evaluator;
  std::unique_ptr<EvolutionSearch> search;
  std::string out_dir;
  bool raise_errors = false;
  std::optional<py::error_already_set> pending;  // the error that stopped the search

  EvolutionSearch& s() {
    if (!search) throw Error("evolution search: not initialised");
    return *search;
  }
};

// on_error: None keeps the config's on_evaluator_error; "record" (or
// "continue") and "raise" (or "stop") set it. A Python evaluator's exception
// then stops the search and propagates as itself.
void ApplyOnError(PySearch* self, const py::handle& on_error, EvolutionConfig* config) {
  if (!on_error.is_none()) {
    const std::string v = py::cast<std::string>(on_error);
    if (v == "record" || v == "continue") {
      config->on_evaluator_error = "continue";
    } else if (v == "raise" || v == "stop") {
      config->on_evaluator_error = "stop";
    } else {
      throw InvalidInput("on_error: expected \"record\" (or \"continue\") or \"raise\" (or \"stop\"), got \"" + v +
                         "\"");
    }
  }
  self->raise_errors = config->on_evaluator_error == "stop";
}

std::string PyErrorMessage(const py::error_already_set& e) {
  return py::cast<std::string>(e.type().attr("__name__")) + ": " + py::cast<std::string>(py::str(e.value()));
}

// The evaluator for `spec_or_callable`: None (use `config.evaluator`), a kind
// name ("macs"), a spec dict, or a callable taking a list of Arch. Updates
// `config->evaluator` so checkpoints say which evaluator was used.
void MakePyEvaluator(PySearch* self, const py::handle& ev, EvolutionConfig* config, const SearchSpace& space) {
  if (!ev.is_none() && PyCallable_Check(ev.ptr()) && !py::isinstance<py::str>(ev)) {
    self->callable = py::reinterpret_borrow<py::object>(ev);
    const std::string name = py::cast<std::string>(
        py::getattr(ev, "__qualname__", py::getattr(ev.get_type(), "__qualname__", py::str("python"))));
    config->evaluator = {{"kind", "python"}, {"name", name}};
    self->evaluator = std::make_unique<CallbackEvaluator>(
        name, [self](const std::vector<Arch>& archs) -> std::vector<double> {
          py::gil_scoped_acquire gil;
          try {
            py::list batch;
            for (const Arch& a : archs) batch.append(py::cast(a));
            const py::object out = self->callable(batch);
            std::vector<double> fitness;
            for (const py::handle v : out) {
              // None marks a failed candidate, as NaN does.
              fitness.push_back(v.is_none() ? std::numeric_limits<double>::quiet_NaN()
                                            : py::cast<double>(py::float_(py::reinterpret_borrow<py::object>(v))));
            }
            return fitness;
          } catch (py::error_already_set& e) {
            if (self->raise_errors || !e.matches(PyExc_Exception)) {
              self->pending.emplace(std::move(e));
              throw AbortSearch{};
            }
            throw Error(PyErrorMessage(e));
          }
        });
    return;
  }
  if (py::isinstance<py::str>(ev)) {
    config->evaluator = {{"kind", py::cast<std::string>(ev)}};
  } else if (!ev.is_none()) {
    config->evaluator = ResolveEvaluatorSpec(ToJson(ev), "");
  } else if (config->evaluator.value("kind", "") == "python") {
    throw InvalidInput("evolution search: this search used a Python evaluator (" +
                       config->evaluator.value("name", std::string("python")) +
                       "); pass it again as evaluator=");
  }
  self->evaluator = MakeEvaluator(config->evaluator, "evaluator", "", space, config->subspace);
}

// Runs `f` with the GIL released; re-raises the Python error that stopped it.
template <typename F>
void Guarded(PySearch& self, F&& f) {
  try {
    py::gil_scoped_release release;
    f();
  } catch (const AbortSearch&) {
    py::error_already_set e = std::move(*self.pending);
    self.pending.reset();
    throw e;
  }
}

EvolutionConfig ConfigFrom(const py::handle& config) {
  if (py::isinstance<EvolutionConfig>(config)) return py::cast<EvolutionConfig>(config);
  if (IsPathLike(config)) return EvolutionConfig::Load(FsPath(config));
  return EvolutionConfig::FromJson(ToJson(config), "<dict>", "");
}

std::unique_ptr<PySearch> NewSearch(const py::handle& config_obj, const py::object& space_obj,
                                    const py::handle& evaluator, const py::handle& out_dir,
                                    const py::handle& on_error) {
  auto self = std::make_unique<PySearch>();
  EvolutionConfig config = ConfigFrom(config_obj);
  ApplyOnError(self.get(), on_error, &config);
  SearchSpace space = space_obj.is_none() ? LoadSearchSpace(config.space) : py::cast<SearchSpace>(space_obj);
  MakePyEvaluator(self.get(), evaluator, &config, space);
  self->out_dir = out_dir.is_none() ? std::string() : FsPath(out_dir);
  self->search = std::make_unique<EvolutionSearch>(std::move(config), std::move(space), self->evaluator.get(),
                                                   self->out_dir);
  return self;
}

void Run(PySearch& self, const py::object& progress) {
  if (progress.is_none()) {
    Guarded(self, [&] { self.s().Run(); });
    return;
  }
  // Run(), one generation at a time, reporting after each.
  while (!self.s().done()) {
    Guarded(self, [&] { self.s().Step(); });
    progress(self.s().state().stats.back());
  }
  if (!self.out_dir.empty()) self.s().WriteResults(self.out_dir);
}

py::dict CandidateDict(const Candidate& c) {
  py::dict d("id"_a = c.id, "generation"_a = c.generation, "origin"_a = c.origin,
             "parents"_a = py::make_tuple(c.parent_a, c.parent_b), "genes"_a = FromJson(GenesToJson(c.genes)),
             "fitness"_a = c.failed ? py::object(py::none()) : py::object(py::float_(c.fitness)),
             "failed"_a = c.failed, "error"_a = c.error, "macs"_a = c.cost.macs, "params"_a = c.cost.params,
             "flash_bytes"_a = c.cost.flash_bytes, "peak_sram_bytes"_a = c.cost.peak_sram_bytes,
             "latency_ms"_a = c.cost.latency_ms);
  return d;
}

py::dict CostDict(const CandidateCost& c) {
  return py::dict("macs"_a = c.macs, "params"_a = c.params, "flash_bytes"_a = c.flash_bytes,
                  "peak_sram_bytes"_a = c.peak_sram_bytes, "latency_ms"_a = c.latency_ms);
}

py::dict StatsDict(const GenerationStats& s) {
  return py::dict("generation"_a = s.generation, "best_id"_a = s.best_id, "best_fitness"_a = s.best_fitness,
                  "mean_parent_fitness"_a = s.mean_parent_fitness, "evaluated"_a = s.evaluated,
                  "failed"_a = s.failed, "rejected_infeasible"_a = s.rejected_infeasible,
                  "rejected_duplicate"_a = s.rejected_duplicate);
}

// The config JSON of evolution_search()'s keyword arguments: `space` and
// `subspace` filled in, constraint shorthands moved under "constraints".
nlohmann::json ConfigJson(const SearchSpace& space, const SubSpace& sub, const py::kwargs& kwargs) {
  nlohmann::json j = {{"schema_version", kEvolutionConfigSchemaVersion},
                      {"kind", "evolution_config"},
                      {"space", space.source.empty() ? "<in-memory:" + space.name + ">" : space.source},
                      {"subspace", {{"width_mult", sub.width_mult}, {"resolution", sub.resolution}}}};
  nlohmann::json constraints = nlohmann::json::object();
  for (const auto& [key, value] : kwargs) {
    const std::string k = py::cast<std::string>(key);
    if (k == "board" && py::isinstance<Board>(value)) {
      j[k] = py::cast<Board>(value).name;
    } else if (k == "board" && IsPathLike(value)) {
      j[k] = FsPath(value);
    } else if (k == "peak_sram_kb" || k == "flash_kb" || k == "latency_ms" || k == "fps") {
      constraints[k] = ToJson(value);
    } else {
      j[k] = ToJson(value);
    }
  }
  if (!constraints.empty()) {
    if (j.contains("constraints")) {
      throw InvalidInput("evolution_search: give constraints either as constraints={...} or as keywords, not both");
    }
    j["constraints"] = constraints;
  }
  return j;
}

}  // namespace

void RegisterEvolution(py::module_& m) {
  py::class_<EvolutionConfig>(m, "EvolutionConfig",
                              "Configuration of an evolution search, as the JSON of `mcunet search --config`.")
      .def(py::init([](const py::handle& d) { return ConfigFrom(d); }), "config"_a,
           "From a dict (the config JSON's fields) or a config file path. Unknown fields are errors.")
      .def_static(
          "load", [](const py::handle& path) { return EvolutionConfig::Load(FsPath(path)); }, "path"_a,
          "Read a config file; relative paths in it are resolved against its directory.")
      .def_static(
          "from_dict",
          [](const py::handle& d, const std::string& source, const std::string& base_dir) {
            return EvolutionConfig::FromJson(ToJson(d), source, base_dir);
          },
          "d"_a, "source"_a = "<dict>", "base_dir"_a = "",
          "From a dict; `source` names it in errors, relative paths resolve against `base_dir`.")
      .def("to_dict", [](const EvolutionConfig& c) { return FromJson(c.ToJson()); }, "The config JSON as a dict.")
      .def("validate", [](const EvolutionConfig& c) { c.Validate(); }, "Raise ValueError naming the field.")
      .def_readonly("space", &EvolutionConfig::space, "The search space file.")
      .def_readonly("subspace", &EvolutionConfig::subspace, "The (W, R) sub-space searched.")
      .def_readonly("board", &EvolutionConfig::board, "Board name or board JSON path.")
      .def_readonly("planner", &EvolutionConfig::planner, "Memory planner of the SRAM constraint.")
      .def_property_readonly("evaluator", [](const EvolutionConfig& c) { return FromJson(c.evaluator); },
                             "The evaluator spec ({'kind': 'macs'|'table'|'synthetic'|'python', ...}).")
      .def_readonly("algorithm", &EvolutionConfig::algorithm, "'evolution' or 'random' (the baseline).")
      .def_readonly("population_size", &EvolutionConfig::population_size, "Population size.")
      .def_readonly("parent_ratio", &EvolutionConfig::parent_ratio, "Fraction kept as parents.")
      .def_readonly("mutation_ratio", &EvolutionConfig::mutation_ratio, "Fraction of children by mutation.")
      .def_readonly("mutate_prob", &EvolutionConfig::mutate_prob, "Per-choice mutation probability.")
      .def_readonly("generations", &EvolutionConfig::generations, "Generations after the initial population.")
      .def_readonly("seed", &EvolutionConfig::seed, "Seed.")
      .def_readonly("unique", &EvolutionConfig::unique, "Children must be new genomes.")
      .def_readonly("on_evaluator_error", &EvolutionConfig::on_evaluator_error,
                    "'continue': an evaluator's exception marks its candidates failed; 'stop': it stops the search.")
      .def_property_readonly("num_parents", &EvolutionConfig::num_parents, "Parents per generation.")
      .def_property_readonly("num_mutations", &EvolutionConfig::num_mutations, "Mutation children per generation.")
      .def_property_readonly("num_crossovers", &EvolutionConfig::num_crossovers,
                             "Crossover children per generation.")
      .def_property_readonly("budget", &EvolutionConfig::budget,
                             "Evaluations of a full run: population_size * (generations + 1).")
      .def("__repr__", [](const EvolutionConfig& c) {
        return "EvolutionConfig(subspace=" + c.subspace.Label() + ", board='" + c.board + "', population_size=" +
               std::to_string(c.population_size) + ", generations=" + std::to_string(c.generations) +
               ", seed=" + std::to_string(c.seed) + ")";
      });

  py::class_<Candidate>(m, "Candidate", "One evaluated candidate of an evolution search (a history entry).")
      .def_readonly("id", &Candidate::id, "Index in the history.")
      .def_readonly("generation", &Candidate::generation, "Generation (0: initial population).")
      .def_readonly("origin", &Candidate::origin, "'random', 'mutation' or 'crossover'.")
      .def_property_readonly("parents", [](const Candidate& c) { return py::make_tuple(c.parent_a, c.parent_b); },
                             "Ids of the parents (-1: none).")
      .def_readonly("genes", &Candidate::genes, "The genome.")
      .def_property_readonly(
          "fitness",
          [](const Candidate& c) { return c.failed ? py::object(py::none()) : py::object(py::float_(c.fitness)); },
          "Fitness (higher is better), or None if the evaluation failed.")
      .def_readonly("failed", &Candidate::failed, "Whether the evaluation failed.")
      .def_readonly("error", &Candidate::error, "Why it failed ('' otherwise).")
      .def_property_readonly("macs", [](const Candidate& c) { return c.cost.macs; }, "MACs.")
      .def_property_readonly("params", [](const Candidate& c) { return c.cost.params; }, "Parameters.")
      .def_property_readonly("flash_bytes", [](const Candidate& c) { return c.cost.flash_bytes; }, "Flash bytes.")
      .def_property_readonly("peak_sram_bytes", [](const Candidate& c) { return c.cost.peak_sram_bytes; },
                             "Peak SRAM bytes under the search's planner.")
      .def_property_readonly("latency_ms", [](const Candidate& c) { return c.cost.latency_ms; },
                             "Estimated latency on the search's board.")
      .def("to_dict", &CandidateDict, "The candidate as a flat dict (for tables and mcunet.plot.pareto).")
      .def("__repr__", [](const Candidate& c) {
        return "Candidate(id=" + std::to_string(c.id) + ", generation=" + std::to_string(c.generation) +
               ", fitness=" + (c.failed ? std::string("None") : std::to_string(c.fitness)) +
               ", peak_sram_bytes=" + std::to_string(c.cost.peak_sram_bytes) + ")";
      });

  py::class_<GenerationStats>(m, "GenerationStats", "Progress of one generation of an evolution search.")
      .def_readonly("generation", &GenerationStats::generation, "Generation.")
      .def_readonly("best_id", &GenerationStats::best_id, "Best candidate so far.")
      .def_readonly("best_fitness", &GenerationStats::best_fitness, "Its fitness.")
      .def_readonly("mean_parent_fitness", &GenerationStats::mean_parent_fitness, "Mean fitness of the parents.")
      .def_readonly("evaluated", &GenerationStats::evaluated, "Candidates evaluated this generation.")
      .def_readonly("failed", &GenerationStats::failed, "Of which failed.")
      .def_readonly("rejected_infeasible", &GenerationStats::rejected_infeasible,
                    "Proposals rejected by the constraints.")
      .def_readonly("rejected_duplicate", &GenerationStats::rejected_duplicate, "Proposals already evaluated.")
      .def("to_dict", &StatsDict, "As a dict.")
      .def("__repr__", [](const GenerationStats& s) {
        return "GenerationStats(generation=" + std::to_string(s.generation) +
               ", best_fitness=" + std::to_string(s.best_fitness) + ", failed=" + std::to_string(s.failed) + ")";
      });

  py::class_<PySearch>(m, "EvolutionSearch",
                       "TinyNAS stage 2: evolution search in one (W, R) sub-space under SRAM, Flash and latency "
                       "constraints. `evaluator` is None (the config's), a kind ('macs'), a spec dict "
                       "({'kind': 'table', 'path': ...}), or a callable taking a list of Arch and returning one "
                       "fitness per Arch (higher is better; None/NaN = failed). The GIL is released while C++ "
                       "works and held around the callable. on_error: 'record' (or 'continue') records a raising "
                       "evaluator's candidates as failed, with the message, and goes on; 'raise' (or 'stop') stops "
                       "and re-raises; None (default) follows the config's on_evaluator_error ('continue' unless "
                       "set).")
      .def(py::init(&NewSearch), "config"_a, "space"_a = py::none(), "evaluator"_a = py::none(),
           "out_dir"_a = py::none(), "on_error"_a = py::none(),
           "A search from an EvolutionConfig, a config dict or a config file. `space` defaults to the "
           "config's space file. With `out_dir`, a checkpoint is written after every generation and the "
           "results at the end.")
      .def_static(
          "resume",
          [](const py::handle& dir, const py::handle& evaluator, const py::handle& on_error) {
            auto self = std::make_unique<PySearch>();
            self->out_dir = FsPath(dir);
            EvolutionCheckpoint cp = LoadEvolutionCheckpoint(self->out_dir);
            ApplyOnError(self.get(), on_error, &cp.config);
            MakePyEvaluator(self.get(), evaluator, &cp.config, cp.space);
            self->search = std::make_unique<EvolutionSearch>(std::move(cp), self->evaluator.get(), self->out_dir);
            return self;
          },
          "out_dir"_a, "evaluator"_a = py::none(), "on_error"_a = py::none(),
          "Continue the search checkpointed in `out_dir` (pass a Python evaluator again). A resumed search "
          "ends exactly as an uninterrupted one.")
      .def("run", &Run, "progress"_a = py::none(),
           "Run the remaining generations (write the results to out_dir if set). `progress(stats)` is called "
           "with a GenerationStats after each generation.")
      .def(
          "step", [](PySearch& self) { Guarded(self, [&] { self.s().Step(); }); },
          "Run the initial population or one more generation (no-op when done).")
      .def_property_readonly("done", [](PySearch& self) { return self.s().done(); }, "All generations done.")
      .def_property_readonly("generations_done", [](PySearch& self) { return self.s().state().generations_done; },
                             "-1: nothing yet; 0: initial population done; ...")
      .def_property_readonly("config", [](PySearch& self) { return self.s().config(); }, "The configuration.")
      .def_property_readonly("space", [](PySearch& self) { return self.s().space(); }, "The search space.")
      .def_property_readonly("board", [](PySearch& self) { return self.s().board(); }, "The board.")
      .def_property_readonly("constraints", [](PySearch& self) { return self.s().constraints().ToString(); },
                             "The resolved constraints, e.g. 'peak SRAM <= 320 kB, Flash <= 1024 kB'.")
      .def_property_readonly("history", [](PySearch& self) { return self.s().state().history; },
                             "Every evaluated candidate, in order.")
      .def(
          "history_dicts",
          [](PySearch& self) {
            py::list out;
            for (const Candidate& c : self.s().state().history) out.append(CandidateDict(c));
            return out;
          },
          "The history as flat dicts (generation, fitness, macs, peak_sram_bytes, latency_ms, ...): the "
          "input of mcunet.plot.pareto and mcunet.plot.evolution_progress.")
      .def_property_readonly("stats", [](PySearch& self) { return self.s().state().stats; },
                             "One GenerationStats per generation done.")
      .def_property_readonly("population", [](PySearch& self) { return self.s().state().population; },
                             "Ids of the current population, best first.")
      .def_property_readonly("rng", [](PySearch& self) { return self.s().state().rng; }, "A copy of the RNG.")
      .def("best", [](PySearch& self) { return self.s().Best(); },
           "The best successful candidate (RuntimeError if none).")
      .def("best_arch", [](PySearch& self) { return self.s().BestArch(); }, "The best candidate's architecture.")
      .def(
          "decode", [](PySearch& self, const Candidate& c) { return self.s().Decode(c); }, "candidate"_a,
          "A candidate's architecture.")
      .def(
          "cost", [](PySearch& self, const Genes& g) { return CostDict(self.s().Cost(g)); }, "genes"_a,
          "Costs of `genes` in the search's sub-space on its board: {'macs', 'params', 'flash_bytes', "
          "'peak_sram_bytes', 'latency_ms'}.")
      .def(
          "violation",
          [](PySearch& self, const Genes& g) {
            const std::string v = self.s().Violation(self.s().Cost(g));
            return v.empty() ? py::object(py::none()) : py::object(py::str(v));
          },
          "genes"_a, "None if `genes` satisfies the constraints, else what fails.")
      .def("history_json", [](PySearch& self) { return FromJson(self.s().HistoryJson()); },
           "The history JSON (as history.json) as a dict.")
      .def("history_csv", [](PySearch& self) { return self.s().HistoryCsv(); }, "The history as CSV text.")
      .def("summary", [](PySearch& self) { return FromJson(self.s().SummaryJson()); }, "summary.json as a dict.")
      .def("summary_text", [](PySearch& self) { return self.s().SummaryText(); }, "A short text summary.")
      .def("checkpoint", [](PySearch& self) { return FromJson(self.s().CheckpointJson()); },
           "The checkpoint JSON as a dict.")
      .def(
          "save_checkpoint", [](PySearch& self, const py::handle& dir) { self.s().SaveCheckpoint(FsPath(dir)); },
          "dir"_a, "Write DIR/checkpoint.json.")
      .def(
          "write_results", [](PySearch& self, const py::handle& dir) { self.s().WriteResults(FsPath(dir)); },
          "dir"_a, "Write best_arch.json, history.json, history.csv and summary.json to DIR.")
      .def("__repr__", [](PySearch& self) {
        const EvolutionSearch& s = self.s();
        return "EvolutionSearch(subspace=" + s.config().subspace.Label() + ", board='" + s.board().name +
               "', generations_done=" + std::to_string(s.state().generations_done) + "/" +
               std::to_string(s.config().generations) + ", evaluated=" + std::to_string(s.state().history.size()) +
               ")";
      });

  m.def(
      "evolution_search",
      [](const SearchSpace& space, const SubSpace& subspace, const py::handle& evaluator, const py::handle& out_dir,
         const py::handle& on_error, const py::object& progress, const py::kwargs& kwargs) {
        const nlohmann::json j = ConfigJson(space, subspace, kwargs);
        EvolutionConfig config = EvolutionConfig::FromJson(j, "evolution_search", "");
        config.space = j["space"].get<std::string>();  // as given, not made absolute
        std::unique_ptr<PySearch> self =
            NewSearch(py::cast(config), py::cast(space), evaluator, out_dir, on_error);
        Run(*self, progress);
        return self;
      },
      "space"_a, "subspace"_a, "evaluator"_a = py::none(), "out_dir"_a = py::none(), "on_error"_a = py::none(),
      "progress"_a = py::none(),
      "Run an evolution search and return it (see EvolutionSearch). Other keywords are the config's fields: "
      "board, planner, population_size, parent_ratio, mutation_ratio, mutate_prob, generations, seed, unique, "
      "algorithm ('evolution' | 'random'), max_child_attempts, max_initial_attempts, latency_calibration, "
      "on_evaluator_error ('continue' | 'stop'; or on_error=), and "
      "the constraints peak_sram_kb / flash_kb ('board', a number or None), latency_ms or fps. Unknown "
      "keywords raise ValueError naming the closest known one.");
  m.def("arch_hash", &ArchHashHex, "arch"_a,
        "The 16-digit hex structural hash of an architecture (the key of accuracy tables; the name is ignored).");
}

}  // namespace mcunet::python
