// mcunet._nn: the libtorch half of mcunet (weight-sharing supernet, its
// training, BN re-calibration evaluator, fine-tuning) as a Python module.
//
// A separate extension from mcunet._core so that `import mcunet` neither
// loads libtorch nor needs it built (MCUNET_BUILD_NN=OFF builds no _nn).
// Thin: every function forwards to include/mcunet/nn/; this file includes no
// torch header. Images cross as NumPy arrays or CPU torch tensors without a
// copy (a float32 C-contiguous array is read in place); long calls release
// the GIL.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "conversions.h"
#include "mcunet/arch.h"
#include "mcunet/dataset.h"
#include "mcunet/error.h"
#include "mcunet/evolution.h"
#include "mcunet/float_model.h"
#include "mcunet/nn/supernet.h"
#include "mcunet/nn/supernet_evaluator.h"
#include "mcunet/nn/train_config.h"
#include "mcunet/nn/trainer.h"
#include "mcunet/search_space.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace mcunet::python {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

SubSpace ToSubSpace(const py::handle& sub) {
  if (py::isinstance<py::str>(sub)) return ParseSubSpaceLabel(py::cast<std::string>(sub), "subspace");
  return py::cast<SubSpace>(sub);
}

// A dict (or None: defaults) as a validated TrainConfig.
nn::TrainConfig ToTrainConfig(const py::handle& config, const char* where) {
  nn::TrainConfig cfg;
  if (!config.is_none()) {
    if (!py::isinstance<py::dict>(config)) throw InvalidInput(std::string(where) + ": expected a dict (train_config)");
    cfg = nn::TrainConfig::FromJson(ToJson(config), where);
  }
  cfg.Validate(where);
  return cfg;
}

py::list CurveToList(const std::vector<nn::EpochRecord>& curve) {
  py::list out;
  for (const nn::EpochRecord& r : curve) {
    out.append(py::dict("epoch"_a = r.epoch, "lr"_a = r.lr, "train_loss"_a = r.train_loss, "train_acc"_a = r.train_acc,
                        "val_acc"_a = r.val_acc, "val_acc_smallest"_a = r.val_acc_smallest, "seconds"_a = r.seconds,
                        "images_per_second"_a = r.images_per_second));
  }
  return out;
}

py::dict TrainResultToDict(const nn::TrainResult& r) {
  return py::dict("curve"_a = CurveToList(r.curve), "seconds"_a = r.seconds, "final_path"_a = r.final_path,
                  "finished"_a = r.finished);
}

bool IsTorchTensor(const py::handle& x) {
  const std::string module = py::cast<std::string>(x.get_type().attr("__module__"));
  return module == "torch" && py::hasattr(x, "numpy");
}

// Runs `forward(pointer, n, logits)` on `x` ([n, C, R, R] float32; a NumPy
// array or a CPU torch tensor, read in place when float32 and contiguous).
// Returns logits [n, num_classes] of the same kind as `x`.
template <typename Forward>
py::object ForwardImages(const py::object& x, int channels, int resolution, int num_classes, Forward&& forward) {
  const bool torch_in = IsTorchTensor(x);
  py::object source = x;
  if (torch_in) source = x.attr("detach")().attr("cpu")().attr("float")().attr("contiguous")().attr("numpy")();
  const FloatArray a = FloatArray::ensure(source);
  if (!a) throw InvalidInput("forward: expected a float array or tensor of images [n, C, R, R]");
  if (a.ndim() != 4 || a.shape(1) != channels || a.shape(2) != resolution || a.shape(3) != resolution) {
    std::string got;
    for (py::ssize_t i = 0; i < a.ndim(); ++i) got += (i ? ", " : "") + std::to_string(a.shape(i));
    throw InvalidInput("forward: expected images [n, " + std::to_string(channels) + ", " + std::to_string(resolution) +
                       ", " + std::to_string(resolution) + "] (normalised NCHW), got [" + got + "]");
  }
  const int n = static_cast<int>(a.shape(0));
  py::array_t<float> logits({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(num_classes)});
  float* out = logits.mutable_data();
  const float* in = a.data();
  {
    py::gil_scoped_release release;
    forward(in, n, out);
  }
  if (torch_in) return py::module_::import("torch").attr("from_numpy")(logits);
  return logits;
}

void RegisterTraining(py::module_& m) {
  m.def(
      "configure_runtime", &nn::ConfigureRuntime, "threads"_a = 2,
      "glibc malloc tuning (mmap/trim thresholds, top pad: 3-15x faster libtorch here) and torch's intra-op threads. "
      "The trainers call it; call it yourself before using torch in the same process.");
  m.def(
      "train_supernet",
      [](const SearchSpace& space, const py::object& subspace, const py::object& out, const py::object& config,
         bool resume, bool progress, int stop_after_epoch) {
        const SubSpace sub = ToSubSpace(subspace);
        const nn::TrainConfig cfg = ToTrainConfig(config, "train_supernet config");
        nn::TrainOptions opt;
        opt.resume = resume;
        opt.progress = progress;
        opt.stop_after_epoch = stop_after_epoch;
        const std::string dir = FsPath(out);
        nn::TrainResult r;
        {
          py::gil_scoped_release release;
          r = nn::TrainSupernet(space, sub, cfg, dir, opt);
        }
        return TrainResultToDict(r);
      },
      "space"_a, "subspace"_a, "out"_a, "config"_a = py::none(), "resume"_a = false, "progress"_a = true,
      "stop_after_epoch"_a = 0,
      "Trains the weight-sharing supernet of `subspace` (a SubSpace or a label such as 'w1-r32') with the sandwich "
      "rule. `config` is a train_config dict (every key optional; see include/mcunet/nn/train_config.h). Writes "
      "checkpoint.pt after each epoch, supernet.pt, curve.csv and config.json into `out`; resume=True continues "
      "from checkpoint.pt. Returns {'curve': [per-epoch dicts], 'seconds', 'final_path', 'finished'}. The GIL is "
      "released while it trains (Ctrl-C takes effect when it returns; the last epoch's checkpoint is kept).");
  m.def(
      "finetune",
      [](const py::object& supernet, const Arch& arch, const py::object& out, const py::object& config, bool resume,
         bool progress) {
        nn::TrainConfig cfg;
        if (config.is_none()) {
          cfg.lr = 0.02;  // as `mcunet finetune` without --config
        } else {
          cfg = ToTrainConfig(config, "finetune config");  // ValueError unless a valid dict
        }
        const bool data_from_config = !config.is_none() && py::cast<py::dict>(config).contains("data");
        nn::TrainOptions opt;
        opt.resume = resume;
        opt.progress = progress;
        const std::string ckpt = FsPath(supernet), dir = FsPath(out);
        nn::FinetuneResult r;
        {
          py::gil_scoped_release release;
          r = nn::Finetune(ckpt, arch, "arch", cfg, dir, opt, data_from_config);
        }
        py::dict d = TrainResultToDict(r.train);
        d["inherited_val_acc"] = r.inherited_val_acc;
        d["val_acc"] = r.val_acc;
        d["test_acc"] = r.test_acc < 0 ? py::object(py::none()) : py::object(py::float_(r.test_acc));
        d["float_model_path"] = r.float_model_path;
        return d;
      },
      "supernet"_a, "arch"_a, "out"_a, "config"_a = py::none(), "resume"_a = false, "progress"_a = true,
      "Inherits `arch`'s weights from a supernet checkpoint, re-calibrates BN, fine-tunes it alone (data options "
      "from the checkpoint unless `config` has 'data') and writes subnet.pt, float_model.json, curve.csv and "
      "result.json into `out`. Returns the training dict plus inherited_val_acc, val_acc, test_acc (None without "
      "a test split) and float_model_path.");
}

void RegisterNetworks(py::module_& m) {
  py::class_<nn::Subnet>(m, "Subnet", "A standalone float network (own weights), e.g. extracted from a supernet.")
      .def(py::init<const Arch&, uint64_t>(), "arch"_a, "seed"_a = 0, "Fresh weights (seeded).")
      .def_property_readonly("arch", &nn::Subnet::arch)
      .def_property_readonly("num_parameters", &nn::Subnet::num_parameters)
      .def_property_readonly("normalization",
                             [](const nn::Subnet& self) {
                               return py::dict("mean"_a = self.normalization().mean, "std"_a = self.normalization().std);
                             })
      .def(
          "forward",
          [](nn::Subnet& self, const py::object& x) {
            const Arch& a = self.arch();
            return ForwardImages(x, a.in_channels, a.resolution, a.num_classes,
                                 [&](const float* in, int n, float* out) { self.Forward(in, n, out); });
          },
          "images"_a,
          "Logits [n, classes] (inference mode) for normalised images [n, C, R, R]: a NumPy array or a CPU torch "
          "tensor (then a tensor is returned). float32 contiguous input is read in place.")
      .def("to_float_model", &nn::Subnet::ToFloatModel, "The FloatModel (OHWI weights, BN unfolded) for quantize().")
      .def("save", [](const nn::Subnet& self, const py::object& path) { self.Save(FsPath(path)); }, "path"_a)
      .def_static("load", [](const py::object& path) { return nn::Subnet::Load(FsPath(path)); }, "path"_a);

  py::class_<nn::Supernet, std::shared_ptr<nn::Supernet>>(
      m, "Supernet",
      "The weight-sharing supernet of one (W, R) sub-space: kernels as centre crops of 7x7 weights, expand ratios "
      "as the first (L1-sorted) channels, depth as the first blocks of each stage.")
      .def(py::init([](const SearchSpace& space, const py::object& subspace, uint64_t seed) {
             return std::make_shared<nn::Supernet>(space, ToSubSpace(subspace), seed);
           }),
           "space"_a, "subspace"_a, "seed"_a = 0, "A freshly initialised supernet.")
      .def_static(
          "load", [](const py::object& path) { return std::make_shared<nn::Supernet>(nn::Supernet::Load(FsPath(path))); },
          "path"_a, "Loads supernet.pt or a training checkpoint.pt.")
      .def("save", [](const nn::Supernet& self, const py::object& path) { self.Save(FsPath(path)); }, "path"_a)
      .def_property_readonly("space", &nn::Supernet::space)
      .def_property_readonly("subspace", &nn::Supernet::subspace)
      .def_property_readonly("active", &nn::Supernet::active, "The active subnet's architecture.")
      .def_property_readonly("num_parameters", &nn::Supernet::num_parameters)
      .def_property_readonly("normalization",
                             [](const nn::Supernet& self) {
                               return py::dict("mean"_a = self.normalization().mean, "std"_a = self.normalization().std);
                             })
      .def_property_readonly("meta", [](const nn::Supernet& self) { return FromJson(self.meta()); })
      .def("largest_arch", &nn::Supernet::LargestArch)
      .def("smallest_arch", &nn::Supernet::SmallestArch)
      .def("sample_arch", &nn::Supernet::SampleArch, "rng"_a)
      .def("set_active", &nn::Supernet::SetActive, "arch"_a,
           "Selects a subnet; ValueError naming the first choice outside the supernet's space.")
      .def(
          "forward",
          [](nn::Supernet& self, const py::object& x) {
            return ForwardImages(x, self.space().in_channels, self.subspace().resolution, self.space().num_classes,
                                 [&](const float* in, int n, float* out) { self.Forward(in, n, out); });
          },
          "images"_a,
          "Logits [n, classes] of the active subnet (inference mode, running BN statistics) for normalised images "
          "[n, C, R, R]: a NumPy array or a CPU torch tensor (then a tensor is returned).")
      .def("sort_channels", &nn::Supernet::SortChannels)
      .def("extract", &nn::Supernet::Extract, "arch"_a, "A standalone Subnet with a copy of `arch`'s weights.")
      .def("extract_float_model", &nn::Supernet::ExtractFloatModel, "arch"_a,
           "extract(arch).to_float_model(): ready for mcunet.quantize().");

  py::class_<nn::SupernetEvaluator>(
      m, "SupernetEvaluator",
      "Accuracy of subnets for the evolution search: set active, re-calibrate BatchNorm on training batches, top-1 "
      "on the validation split. Callable with a list of Arch (pass it as evaluator= to mcunet.evolution_search).")
      .def(py::init([](const py::object& supernet, const py::object& train, const py::object& val, int calib_batches,
                       int calib_batch_size, int eval_batch_size, int64_t limit_val, uint64_t seed, int threads) {
             nn::SupernetEvaluatorOptions o;
             o.calib_batches = calib_batches;
             o.calib_batch_size = calib_batch_size;
             o.eval_batch_size = eval_batch_size;
             o.limit_val = limit_val;
             o.seed = seed;
             o.threads = threads;
             if (py::isinstance<nn::Supernet>(supernet)) {
               if (train.is_none() || val.is_none()) {
                 throw InvalidInput("SupernetEvaluator: with a Supernet object, pass train= and val= (ImageDataset)");
               }
               return std::make_unique<nn::SupernetEvaluator>(py::cast<std::shared_ptr<nn::Supernet>>(supernet),
                                                              py::cast<const ImageDataset&>(train),
                                                              py::cast<const ImageDataset&>(val), o);
             }
             return std::make_unique<nn::SupernetEvaluator>(FsPath(supernet), o);
           }),
           "supernet"_a, "train"_a = py::none(), "val"_a = py::none(), "calib_batches"_a = 20,
           "calib_batch_size"_a = 64, "eval_batch_size"_a = 256, "limit_val"_a = 0, "seed"_a = 0, "threads"_a = 2,
           "From a checkpoint path (its data set is loaded as it was trained), or from a Supernet object with the "
           "ImageDatasets train (calibration) and val (accuracy) at its resolution.")
      .def_property_readonly("name", &nn::SupernetEvaluator::name)
      .def(
          "__call__",
          [](nn::SupernetEvaluator& self, const std::vector<Arch>& archs) {
            py::gil_scoped_release release;
            return self.Evaluate(archs);
          },
          "archs"_a, "Top-1 validation accuracy (0..1) of each architecture, after BN re-calibration.");
}

}  // namespace
}  // namespace mcunet::python

PYBIND11_MODULE(_nn, m) {
  m.doc() =
      "mcunet._nn: the libtorch part of mcunet -- the weight-sharing supernet, its training, the BN "
      "re-calibration evaluator and fine-tuning. Use it through `mcunet.nn`.";
  // Importing _core registers the types used here (Arch, SearchSpace,
  // SubSpace, ImageDataset, FloatModel) and its UnsupportedError: the same
  // C++ error -> Python exception mapping as _core (conversions.h), with a
  // raw reference kept for the interpreter's lifetime, as _core keeps it.
  static PyObject* unsupported =
      py::object(py::module_::import("mcunet._core").attr("UnsupportedError")).release().ptr();
  py::register_local_exception_translator(
      [](std::exception_ptr p) { mcunet::python::TranslateErrors(p, unsupported); });
  mcunet::python::RegisterTraining(m);
  mcunet::python::RegisterNetworks(m);
}
