// Python <-> C++ conversions and the error translation shared by both
// extensions, mcunet._core and mcunet._nn (conversions.cc is compiled into
// each; neither includes a torch header).
#pragma once

#include <exception>
#include <string>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

namespace mcunet::python {

namespace py = pybind11;

// A Python object made of dicts, lists, str, int, float, bool and None, as
// nlohmann::json (through the `json` module, so every JSON-able value works).
nlohmann::json ToJson(const py::handle& obj);
// The inverse: a JSON value as plain Python objects.
py::object FromJson(const nlohmann::json& j);

// str or os.PathLike -> std::string (os.fspath). Raises TypeError otherwise.
std::string FsPath(const py::handle& obj);
// Whether `obj` is a str or an os.PathLike.
bool IsPathLike(const py::handle& obj);

// The body of an exception translator: rethrows `p` and sets the Python
// error for mcunet's C++ errors, most specific first: mcunet::Unsupported ->
// `unsupported` (mcunet._core.UnsupportedError, a ValueError subclass),
// mcunet::FileNotFound -> FileNotFoundError, mcunet::InvalidInput and
// nlohmann::json errors -> ValueError, any other mcunet::Error ->
// RuntimeError, all with the C++ message unchanged. Other exceptions
// propagate to pybind11's own translators.
void TranslateErrors(std::exception_ptr p, PyObject* unsupported);

}  // namespace mcunet::python
