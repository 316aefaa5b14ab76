// Bindings of TinyNAS stage 1: the search-space optimisation sweep.

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "mcunet/sweep.h"

namespace mcunet::python {

namespace {

using pybind11::literals::operator""_a;

template <typename T>
py::array_t<T> ToArray(const std::vector<T>& v) {
  return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}

SweepResult Sweep(const SearchSpace& space, const py::handle& boards, const std::vector<std::string>& planners,
                  int samples, uint64_t seed, int threads, int cdf_points, double min_fit_fraction,
                  const py::object& progress) {
  SweepOptions o;
  // One board (name, path or Board) or a list of them.
  if (IsPathLike(boards) || py::isinstance<Board>(boards)) {
    o.boards.push_back(ToBoard(boards));
  } else {
    for (const py::handle b : boards) o.boards.push_back(ToBoard(b));
  }
  o.planners = planners;
  o.samples = samples;
  o.seed = seed;
  o.num_threads = threads;
  o.cdf_points = cdf_points;
  o.min_fit_fraction = min_fit_fraction;
  // The callback runs on one C++ thread, possibly inside a parallel region:
  // a Python exception cannot unwind through it. The first one is kept, later
  // progress calls are skipped, and it is raised when the sweep returns.
  std::optional<py::error_already_set> callback_error;
  if (!progress.is_none()) {
    o.progress = [&progress, &callback_error](int64_t done, int64_t total) {
      py::gil_scoped_acquire acquire;
      if (callback_error) return;
      try {
        progress(done, total);
      } catch (py::error_already_set& e) {
        callback_error.emplace(std::move(e));
      }
    };
  }
  SweepResult r;
  {
    py::gil_scoped_release release;
    r = RunSweep(space, o);
  }
  if (callback_error) throw std::move(*callback_error);
  return r;
}

}  // namespace

void RegisterSweep(py::module_& m) {
  py::class_<SubSpaceStats>(m, "SubSpaceStats",
                            "Sweep statistics of one (W, R) sub-space for one (board, planner) case.")
      .def_readonly("subspace", &SubSpaceStats::sub, "The (W, R) sub-space.")
      .def_readonly("samples", &SubSpaceStats::samples, "Architectures sampled.")
      .def_readonly("fitting", &SubSpaceStats::fitting, "How many fit SRAM and Flash.")
      .def_readonly("fit_fraction", &SubSpaceStats::fit_fraction, "fitting / samples.")
      .def_readonly("mean_macs", &SubSpaceStats::mean_macs, "Mean MACs of the fitting networks (0 if none).")
      .def_readonly("quantile_macs", &SubSpaceStats::quantile_macs,
                    "MACs at the quantiles SWEEP_QUANTILES of the fitting networks.")
      .def_property_readonly("fitting_macs", [](const SubSpaceStats& s) { return ToArray(s.fitting_macs); },
                             "MACs of every fitting network, ascending (NumPy int64): the FLOPs CDF.")
      .def_readonly("min_peak_sram_bytes", &SubSpaceStats::min_peak_sram_bytes,
                    "Smallest peak SRAM over all samples.")
      .def_readonly("min_flash_bytes", &SubSpaceStats::min_flash_bytes, "Smallest Flash over all samples.")
      .def_readonly("mean_macs_all", &SubSpaceStats::mean_macs_all, "Mean MACs of all samples (unconstrained).")
      .def_readonly("rank", &SubSpaceStats::rank, "0 = best; -1 = not ranked.")
      .def("__repr__", [](const SubSpaceStats& s) {
        return "SubSpaceStats(" + s.sub.Label() + ", fitting=" + std::to_string(s.fitting) + "/" +
               std::to_string(s.samples) + ", mean_macs=" + std::to_string(s.mean_macs) +
               ", rank=" + std::to_string(s.rank) + ")";
      });

  py::class_<SweepCase>(m, "SweepCase", "The sweep for one (board, planner) pair.")
      .def_readonly("board", &SweepCase::board, "The board.")
      .def_readonly("planner", &SweepCase::planner, "The planner.")
      .def_readonly("subspaces", &SweepCase::subspaces, "One SubSpaceStats per sub-space, in the space's order.")
      .def_readonly("best", &SweepCase::best, "Index of the best sub-space (-1: nothing fits).")
      .def_property_readonly(
          "best_stats",
          [](const SweepCase& c) -> std::optional<SubSpaceStats> {
            if (const SubSpaceStats* s = c.best_stats()) return *s;
            return std::nullopt;
          },
          "Stats of the best sub-space, or None.")
      .def_readonly("min_peak_sram_bytes", &SweepCase::min_peak_sram_bytes, "Smallest peak SRAM of the sweep.")
      .def_readonly("min_flash_bytes", &SweepCase::min_flash_bytes, "Smallest Flash of the sweep.")
      .def_readonly("summary", &SweepCase::summary, "One line: the best sub-space, or why nothing fits.")
      .def("__repr__", [](const SweepCase& c) {
        return "SweepCase(board='" + c.board.name + "', planner='" + c.planner + "', " + c.summary + ")";
      });

  py::class_<SweepResult>(m, "SweepResult", "The result of a search-space optimisation sweep.")
      .def_readonly("space", &SweepResult::space, "The search space swept.")
      .def_readonly("samples", &SweepResult::samples, "Samples per sub-space.")
      .def_readonly("seed", &SweepResult::seed, "Seed.")
      .def_readonly("min_fit_fraction", &SweepResult::min_fit_fraction, "Ranking threshold.")
      .def_readonly("cdf_points", &SweepResult::cdf_points, "CDF points kept in the JSON.")
      .def_readonly("cases", &SweepResult::cases, "One SweepCase per (board, planner), boards-major.")
      .def_readonly("seconds", &SweepResult::seconds, "Wall time.")
      .def_readonly("threads", &SweepResult::threads, "Threads used.")
      .def_readonly("evaluations", &SweepResult::evaluations, "Architectures costed (x planners).")
      .def(
          "case",
          [](const SweepResult& r, const py::handle& board, const std::string& planner) {
            const Board b = ToBoard(board);
            for (const SweepCase& c : r.cases) {
              if (c.board.name == b.name && c.planner == planner) return c;
            }
            throw py::key_error("no sweep case for board '" + b.name + "' and planner '" + planner + "'");
          },
          "board"_a = kDefaultBoard, "planner"_a = "tinyengine", "The case of (board, planner); KeyError if absent.")
      .def("to_dict", [](const SweepResult& r) { return FromJson(SweepToJson(r)); },
           "The versioned, deterministic sweep JSON as a dict.")
      .def("to_csv", &SweepToCsv, "One CSV row per (board, planner, sub-space).")
      .def("comparison_table", &SweepComparisonTable, "Text table: best (W, R) and mean MACs per board x planner.")
      .def(
          "write", [](const SweepResult& r, const py::handle& dir) { WriteSweep(r, FsPath(dir)); }, "dir"_a,
          "Write DIR/sweep.json and DIR/sweep.csv (atomically, creating DIR).")
      .def("__repr__", [](const SweepResult& r) {
        return "SweepResult(space='" + r.space.name + "', samples=" + std::to_string(r.samples) +
               ", cases=" + std::to_string(r.cases.size()) + ")";
      });

  m.def("sweep", &Sweep, "space"_a, "boards"_a = kDefaultBoard, "planners"_a = std::vector<std::string>{"tinyengine"},
        "samples"_a = 1000, "seed"_a = 0, "threads"_a = 0, "cdf_points"_a = 101, "min_fit_fraction"_a = 0.0,
        "progress"_a = py::none(),
        "TinyNAS stage 1: sample `samples` networks per (W, R) sub-space of `space`, cost each under every "
        "planner, keep those that fit each board, rank sub-spaces by the mean MACs of the fitting networks. "
        "`boards`: a board or a list; `threads` 0 = OpenMP's default; `progress(done, total)` is called "
        "now and then. Reproducible for a seed, whatever the thread count. The GIL is released while it runs.");
  m.attr("SWEEP_QUANTILES") = std::vector<double>(std::begin(kSweepQuantiles), std::end(kSweepQuantiles));
}

}  // namespace mcunet::python
