// Bindings of the inference half: the float reference forward, int8
// post-training quantisation, .tflite export, the code generator and the
// host run of generated code. Images cross as NumPy arrays (a torch CPU
// tensor converts without a copy: pass tensor.numpy()).

#include <cstring>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "mcunet/codegen.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/float_forward.h"
#include "mcunet/float_model.h"
#include "mcunet/ptq.h"
#include "mcunet/tflite_reader.h"
#include "mcunet/tflite_writer.h"

namespace mcunet::python {

namespace {

using pybind11::literals::operator""_a;
using U8Array = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;
using I8Array = py::array_t<int8_t, py::array::c_style | py::array::forcecast>;

// N x H x W x C uint8 images of the model's resolution and channels, normalised as the model was trained.
std::vector<float> Normalized(const FloatModel& m, const U8Array& images, int64_t* count) {
  const Arch& a = m.arch;
  if (images.ndim() != 4 || images.shape(1) != a.resolution || images.shape(2) != a.resolution ||
      images.shape(3) != a.in_channels) {
    throw InvalidInput("expected uint8 images of shape (N, " + std::to_string(a.resolution) + ", " +
                       std::to_string(a.resolution) + ", " + std::to_string(a.in_channels) +
                       ") for this model (pad or resize them first, e.g. ImageDataset.resized)");
  }
  *count = images.shape(0);
  const int64_t pixels = static_cast<int64_t>(a.resolution) * a.resolution;  // NormalizeImage counts pixels
  const int64_t values = pixels * a.in_channels;
  std::vector<float> out(static_cast<size_t>(*count * values));
  for (int64_t i = 0; i < *count; ++i) NormalizeImage(m, images.data() + i * values, pixels, out.data() + i * values);
  return out;
}

Graph GraphOf(const py::handle& model) {
  if (py::isinstance<Graph>(model)) return py::cast<Graph>(model);
  if (IsPathLike(model)) return ReadTflite(FsPath(model));
  throw py::type_error("expected a mcunet.Graph (e.g. from mcunet.quantize) or the path of an int8 .tflite");
}

}  // namespace

void RegisterQuant(py::module_& m) {
  m.def(
      "float_forward",
      [](const FloatModel& fm, const U8Array& images) {
        int64_t n = 0;
        const std::vector<float> x = Normalized(fm, images, &n);
        std::vector<float> logits;
        {
          py::gil_scoped_release release;
          logits = FloatForward(fm, x, n);
        }
        py::array_t<float> out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(fm.arch.num_classes)});
        std::memcpy(out.mutable_data(), logits.data(), logits.size() * sizeof(float));
        return out;
      },
      "model"_a, "images"_a,
      "Logits (N x classes) of the float model on uint8 images (N x R x R x C), by the torch-free reference "
      "forward (the quantiser's calibration path).");
  m.def(
      "quantize",
      [](const FloatModel& fm, const U8Array& calibration_images, const std::string& method, double percentile) {
        int64_t n = 0;
        const std::vector<float> x = Normalized(fm, calibration_images, &n);
        PtqOptions o;
        if (method == "percentile") {
          o.method = CalibrationMethod::kPercentile;
          o.percentile = percentile;
        } else if (method != "minmax") {
          throw InvalidInput("quantize: method must be 'minmax' or 'percentile', got '" + method + "'");
        }
        py::gil_scoped_release release;
        Graph g = QuantizeModel(fm, x, n, o);
        if (g.name.empty()) g.name = fm.arch.name;
        return g;
      },
      "model"_a, "calibration_images"_a, "method"_a = "minmax", "percentile"_a = 99.99,
      "int8 post-training quantisation (TFLite int8 spec: BN folded, per-channel weights, activations calibrated "
      "on the uint8 images given): an int8 mcunet.Graph for mcunet.cost, write_tflite and codegen.");
  m.def(
      "quantize_images",
      [](const FloatModel& fm, const Graph& g, const U8Array& images) {
        int64_t n = 0;
        Normalized(fm, images, &n);  // shape check
        const std::vector<int8_t> q = QuantizeImages(fm, g, images.data(), n);
        I8Array out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(q.size() / std::max<int64_t>(n, 1))});
        std::memcpy(out.mutable_data(), q.data(), q.size());
        return out;
      },
      "model"_a, "graph"_a, "images"_a, "uint8 images as the int8 model's inputs (N x input bytes).");
  m.def(
      "write_tflite",
      [](const Graph& g, const py::object& path, bool float_io) {
        TfliteWriteOptions o;
        o.float_io = float_io;
        WriteTfliteFile(g, FsPath(path), o);
      },
      "graph"_a, "path"_a, "float_io"_a = false,
      "Writes an int8 graph as a schema-v3 .tflite (int8 I/O, or float I/O with QUANTIZE/DEQUANTIZE).");
  m.def(
      "codegen",
      [](const py::handle& model, const py::object& out_dir, const py::object& board, const std::string& prefix) {
        const Graph g = GraphOf(model);
        const CostReport report = EvaluateCost(g, "tinyengine");
        CodegenOptions o;
        o.prefix = prefix;
        const GeneratedCode code = board.is_none() ? GenerateCode(report, o) : GenerateCode(report, ToBoard(board), o);
        const std::vector<std::string> files = WriteGeneratedCode(code, FsPath(out_dir));
        py::dict d;
        d["files"] = files;
        d["kernels"] = code.kernels;
        d["arena_bytes"] = code.arena_bytes;
        d["scratch_bytes"] = code.scratch_bytes;
        d["peak_sram_bytes"] = code.peak_sram_bytes;
        d["const_bytes"] = code.const_bytes;
        return d;
      },
      "model"_a, "out_dir"_a, "board"_a = py::none(), "prefix"_a = "mcunet",
      "Generates model.h / model.c for an int8 graph or .tflite into out_dir, planned by the tinyengine planner "
      "(arena + scratch = the cost model's peak SRAM). With a board: ValueError if it does not fit, saying by how "
      "much. Returns the files, kernels and memory figures.");
  m.def(
      "_run_host",
      [](const py::handle& model, const I8Array& inputs, const py::object& runtime_dir) {
        const Graph g = GraphOf(model);
        const GeneratedCode code = GenerateCode(EvaluateCost(g, "tinyengine"));
        if (inputs.size() == 0 || inputs.size() % code.input_bytes != 0) {
          throw InvalidInput("run_host: inputs hold " + std::to_string(inputs.size()) +
                             " int8 values, not a whole number of inputs of " + std::to_string(code.input_bytes));
        }
        HostRunOptions o;
        o.runtime_dir = FsPath(runtime_dir);
        HostRunResult r;
        {
          py::gil_scoped_release release;
          r = RunOnHost(code, std::span<const int8_t>(inputs.data(), inputs.size()), o);
        }
        const int64_t n = inputs.size() / code.input_bytes;
        I8Array out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(code.output_bytes)});
        std::memcpy(out.mutable_data(), r.outputs.data(), r.outputs.size());
        return out;
      },
      "model"_a, "inputs"_a, "runtime_dir"_a,
      "Compiles the generated code with the host C compiler and runs it on int8 inputs (N x input bytes); "
      "returns the int8 outputs (N x output bytes). Use mcunet.run_host, which finds the runtime sources.");
}

}  // namespace mcunet::python
