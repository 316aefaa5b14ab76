// mcunet._core: the module definition, error translation and the
// Python <-> JSON helpers shared by the binding translation units.

#include <string>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>
#include <spdlog/spdlog.h>

#include "bindings.h"
#include "mcunet/error.h"

namespace mcunet::python {

nlohmann::json ToJson(const py::handle& obj) {
  // json.dumps is the reference for what "JSON-able" means in Python; a
  // non-serialisable value raises TypeError there, with Python's message.
  const py::object dumps = py::module_::import("json").attr("dumps");
  const std::string text = py::cast<std::string>(dumps(obj));
  return nlohmann::json::parse(text);
}

py::object FromJson(const nlohmann::json& j) {
  const py::object loads = py::module_::import("json").attr("loads");
  return loads(py::str(j.dump()));
}

bool IsPathLike(const py::handle& obj) {
  if (py::isinstance<py::str>(obj)) return true;
  const py::object path_like = py::module_::import("os").attr("PathLike");
  return py::isinstance(obj, path_like);
}

std::string FsPath(const py::handle& obj) {
  const py::object fspath = py::module_::import("os").attr("fspath");
  return py::cast<std::string>(fspath(obj));
}

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
  // One translator, most specific class first: mcunet::FileNotFound ->
  // FileNotFoundError, mcunet::InvalidInput -> ValueError, any other
  // mcunet::Error -> RuntimeError, all with the C++ message unchanged.
  py::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    try {
      std::rethrow_exception(p);
    } catch (const Unsupported& e) {
      PyErr_SetString(unsupported, e.what());
    } catch (const FileNotFound& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const InvalidInput& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const nlohmann::json::exception& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
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
