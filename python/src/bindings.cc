// mcunet._core: the module definition and its error translation (the
// conversions shared with mcunet._nn are in conversions.cc).

#include <string>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>
#include <spdlog/spdlog.h>

#include "bindings.h"
#include "mcunet/error.h"

namespace mcunet::python {

void RegisterErrors(py::module_& m) {
  // Python-side names for the C++ error classes, so callers can be specific;
  // each derives from the built-in exception users already catch.
  // (A raw, intentionally leaked reference: the class lives as long as the
  // interpreter, and a static py::object would be released after it.)
  static PyObject* unsupported = PyErr_NewExceptionWithDoc(
      "mcunet._core.UnsupportedError",
      "Valid input that mcunet does not support (e.g. a .tflite op it does not know). "
      "A subclass of ValueError.",
      PyExc_ValueError, nullptr);
  if (unsupported == nullptr) throw py::error_already_set();
  m.add_object("UnsupportedError", py::handle(unsupported));
  // One translator for every binding of _core (conversions.h says which
  // C++ error becomes which Python exception).
  py::register_exception_translator([](std::exception_ptr p) { TranslateErrors(p, unsupported); });
}

}  // namespace mcunet::python

PYBIND11_MODULE(_core, m) {
  namespace mp = mcunet::python;
  m.doc() =
      "mcunet._core: the C++ core of mcunet (TinyNAS + TinyEngine) -- boards, the architecture "
      "IR, lowering to graphs, .tflite import, the analytic cost model with its memory planners, "
      "search spaces, sweeps, the latency model and the evolution search. Import `mcunet`, not this module.";
#ifdef MCUNET_VERSION
  m.attr("__version__") = MCUNET_VERSION;
#endif
  mp::RegisterErrors(m);
  m.def(
      "set_log_level",
      [](const std::string& level) {
        const spdlog::level::level_enum l = spdlog::level::from_str(level);
        if (l == spdlog::level::off && level != "off") {
          throw mcunet::InvalidInput("set_log_level: unknown level '" + level +
                                     "' (expected trace, debug, info, warning, error, critical or off)");
        }
        spdlog::set_level(l);
      },
      pybind11::arg("level"),
      "Level of the C++ core's log messages (progress of searches and sweeps): 'trace', 'debug', 'info' "
      "(default), 'warning', 'error', 'critical' or 'off'.");
  mp::RegisterCore(m);
  mp::RegisterSearch(m);
  mp::RegisterLatency(m);
  mp::RegisterSweep(m);
  mp::RegisterEvolution(m);
  mp::RegisterData(m);
  mp::RegisterQuant(m);
}
