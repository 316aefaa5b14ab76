// Shared helpers of the mcunet._core translation units.
//
// The bindings are thin: every function forwards to the C++ API in
// include/mcunet/; the helpers here only convert between Python and C++
// representations (dicts <-> nlohmann::json, os.PathLike -> std::string).
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

#include "conversions.h"
#include "mcunet/board.h"

namespace mcunet::python {

namespace py = pybind11;

// A mcunet.Board, or a board name / board JSON path through FindBoard.
// Raises TypeError for other objects, ValueError for an unknown board.
Board ToBoard(const py::handle& board);

// One registration function per translation unit.
void RegisterErrors(py::module_& m);
void RegisterCore(py::module_& m);    // boards, Arch, Graph, .tflite, cost
void RegisterSearch(py::module_& m);  // Rng, SearchSpace, genes
void RegisterSweep(py::module_& m);   // search-space optimisation sweeps
void RegisterLatency(py::module_& m);  // latency model
void RegisterEvolution(py::module_& m);  // evolution search, evaluators
void RegisterData(py::module_& m);       // data sets, float models
void RegisterQuant(py::module_& m);      // float forward, PTQ, .tflite export, codegen, host run

}  // namespace mcunet::python
