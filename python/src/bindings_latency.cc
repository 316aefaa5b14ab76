// Bindings of the latency model: estimated ms of int8 inference per board.

#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "mcunet/arch.h"
#include "mcunet/graph.h"
#include "mcunet/latency_model.h"
#include "mcunet/tflite_reader.h"

namespace mcunet::python {

namespace {

using pybind11::literals::operator""_a;

// An Arch, a Graph, or a path (.tflite -> graph, anything else -> Arch JSON).
double EstimateMs(const LatencyModel& lm, const py::handle& model, const py::handle& board) {
  const Board b = ToBoard(board);
  if (py::isinstance<Arch>(model)) return lm.EstimateMs(py::cast<const Arch&>(model), b);
  if (py::isinstance<Graph>(model)) return lm.EstimateMs(py::cast<const Graph&>(model), b);
  if (IsPathLike(model)) {
    const std::string path = FsPath(model);
    if (path.size() >= 7 && path.compare(path.size() - 7, 7, ".tflite") == 0) {
      return lm.EstimateMs(ReadTflite(path), b);
    }
    return lm.EstimateMs(LoadArch(path), b);
  }
  throw py::type_error("latency: expected a mcunet.Arch, a mcunet.Graph or a path (.json or .tflite)");
}

py::dict Coefficients(const LatencyModel& lm) {
  py::dict d;
  for (int t = 0; t < kNumLatencyTerms; ++t) {
    d[py::str(std::string(LatencyTermName(static_cast<LatencyTerm>(t))))] = lm.coefficients()[t];
  }
  return d;
}

}  // namespace

void RegisterLatency(py::module_& m) {
  py::class_<LatencyModel>(m, "LatencyModel",
                           "Estimated latency (ms) of TinyEngine-style int8 inference: cycles linear in per-op "
                           "terms, coefficients from a calibration file (see `summary` for what it was fitted on).")
      .def_static(
          "load", [](const py::handle& path) { return LatencyModel::Load(FsPath(path)); }, "path"_a,
          "Read a calibration file. Raises FileNotFoundError or ValueError naming the field.")
      .def_static(
          "default", []() -> const LatencyModel& { return LatencyModel::Default(); },
          py::return_value_policy::reference,
          "The shipped calibration ($MCUNET_LATENCY_CALIBRATION, else data/latency_calibration.json).")
      .def_static("default_calibration_path", &LatencyModel::DefaultCalibrationPath,
                  "Path of the default calibration file.")
      .def("estimate_ms", &EstimateMs, "model"_a, "board"_a = kDefaultBoard,
           "Estimated ms of `model` (Arch, Graph, or .json / .tflite path) on `board`.")
      .def(
          "op_ms",
          [](const LatencyModel& lm, const Graph& g, const py::handle& board) {
            const std::vector<double> ms = lm.OpMs(g, ToBoard(board));
            return py::array_t<double>(static_cast<py::ssize_t>(ms.size()), ms.data());
          },
          "graph"_a, "board"_a = kDefaultBoard, "Per-op estimates in ms (NumPy float64; sums to estimate_ms).")
      .def(
          "reference_cycles", [](const LatencyModel& lm, const Graph& g) { return lm.ReferenceCycles(g); },
          "graph"_a, "Cycles on the reference core (Cortex-M7, board scale 1).")
      .def(
          "cycle_factor", [](const LatencyModel& lm, const py::handle& b) { return lm.CycleFactor(ToBoard(b)); },
          "board"_a, "Multiplier of reference cycles for `board` (core factor x board scale).")
      .def(
          "board_note", [](const LatencyModel& lm, const py::handle& b) { return lm.BoardNote(ToBoard(b)); },
          "board"_a, "How the board's factor was obtained (measured, or 'not measured: as ...').")
      .def_property_readonly("coefficients", &Coefficients, "Reference-core cycles per term, by term name.")
      .def_property_readonly("source", &LatencyModel::source, "The calibration file.")
      .def_property_readonly("summary", &LatencyModel::summary,
                             "The calibration's summary (what it was fitted on, leave-one-out error).")
      .def("__repr__", [](const LatencyModel& lm) { return "LatencyModel(source='" + lm.source() + "')"; });

  m.def(
      "latency_ms",
      [](const py::handle& model, const py::handle& board) {
        return EstimateMs(LatencyModel::Default(), model, board);
      },
      "model"_a, "board"_a = kDefaultBoard,
      "Estimated latency in ms of `model` (Arch, Graph, or .json / .tflite path) on `board` with the default "
      "calibration.");
  m.def("fps_to_latency_ms", &FpsToLatencyMs, "fps"_a, "Latency budget of a frame rate (5 FPS -> 200 ms).");
}

}  // namespace mcunet::python
