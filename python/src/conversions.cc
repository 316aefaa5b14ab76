// See conversions.h.
#include "conversions.h"

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

void TranslateErrors(std::exception_ptr p, PyObject* unsupported) {
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
}

}  // namespace mcunet::python
