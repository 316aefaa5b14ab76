// Bindings of the data sets (Fashion-MNIST, IDX, image folders) and of the
// float model hand-over file. Pixels cross as NumPy arrays without a copy
// (views that keep the data set alive); torch.from_numpy() on them is
// zero-copy as well.

#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "mcunet/dataset.h"
#include "mcunet/error.h"
#include "mcunet/float_model.h"

namespace mcunet::python {

using pybind11::literals::operator""_a;

void RegisterData(py::module_& m) {
  py::class_<ImageDataset>(m, "ImageDataset",
                           "Images (N x H x W x C, uint8) and labels of a classification data set.")
      .def_readonly("source", &ImageDataset::source)
      .def_readonly("num_classes", &ImageDataset::num_classes)
      .def_readonly("class_names", &ImageDataset::class_names)
      .def_property_readonly(
          "images",
          [](py::object self) {
            const auto& d = py::cast<const ImageDataset&>(self);
            return py::array_t<uint8_t>({static_cast<py::ssize_t>(d.size()), static_cast<py::ssize_t>(d.height),
                                         static_cast<py::ssize_t>(d.width), static_cast<py::ssize_t>(d.channels)},
                                        d.pixels.data(), self);
          },
          "uint8 array N x H x W x C (a read-only view, no copy)")
      .def_property_readonly(
          "labels",
          [](py::object self) {
            const auto& d = py::cast<const ImageDataset&>(self);
            return py::array_t<int32_t>({static_cast<py::ssize_t>(d.size())}, d.labels.data(), self);
          },
          "int32 array of N labels (a view, no copy)")
      .def("__len__", &ImageDataset::size)
      .def("subset", &ImageDataset::Subset, "indices"_a, "The images at `indices`, in that order.")
      .def("resized", &ResizeImages, "size"_a, "resize"_a = false,
           "Centre pad/crop to size x size (resize=True: bilinear rescale instead).")
      .def("__repr__", [](const ImageDataset& d) {
        return "<mcunet.ImageDataset " + std::to_string(d.size()) + " images " + std::to_string(d.height) + "x" +
               std::to_string(d.width) + "x" + std::to_string(d.channels) + ", " + std::to_string(d.num_classes) +
               " classes from " + d.source + ">";
      });
  m.def(
      "load_dataset",
      [](const py::object& name, const std::string& split, int size, int channels) {
        return LoadImageData(FsPath(name), split, size, channels);
      },
      "name"_a, "split"_a = "train", "size"_a = 32, "channels"_a = 1,
        "A data set by name: 'fashion-mnist' (Debian's dataset-fashion-mnist; split 'train' or 'test'), "
        "'idx:<images>,<labels>', or an image folder (one sub-folder per class; <dir>/<split> if present). "
        "Raises FileNotFoundError naming the missing file, ValueError for corrupt files.");
  m.def(
      "split_train_val",
      [](const ImageDataset& d, int64_t val_count, uint64_t seed) {
        TrainValSplit s = SplitTrainVal(d, val_count, seed);
        return py::make_tuple(std::move(s.train), std::move(s.val));
      },
      "data"_a, "val_count"_a, "seed"_a = 0,
      "(train, val): a deterministic held-out validation split of a training set.");

  py::class_<FloatModel>(m, "FloatModel",
                         "A trained float network for one Arch (the supernet's extract(), the quantiser's input).")
      .def_static(
          "load", [](const py::object& path) { return LoadFloatModel(FsPath(path)); }, "path"_a,
          "Reads a float model JSON (FileNotFoundError / ValueError naming the file and field).")
      .def(
          "save", [](const FloatModel& fm, const py::object& path) { SaveFloatModel(fm, FsPath(path)); }, "path"_a)
      .def_static("random", &RandomFloatModel, "arch"_a, "seed"_a = 0,
                  "Seeded random weights and BatchNorm statistics for `arch` (tests, demos, code-generation "
                  "experiments without a trained network).")
      .def_readonly("arch", &FloatModel::arch)
      .def_readonly("input_mean", &FloatModel::input_mean)
      .def_readonly("input_std", &FloatModel::input_std)
      .def_property_readonly("layer_names",
                             [](const FloatModel& fm) {
                               std::vector<std::string> names;
                               for (const FloatLayer& l : fm.layers) names.push_back(l.name);
                               return names;
                             })
      .def(
          "weight",
          [](const FloatModel& fm, const std::string& name) {
            for (const FloatLayer& l : fm.layers) {
              if (l.name == name) return py::array_t<float>(static_cast<py::ssize_t>(l.weight.size()), l.weight.data());
            }
            throw InvalidInput("float model: no layer named '" + name + "'");
          },
          "name"_a, "The weights of a layer (OHWI, flattened; a copy).");
}

}  // namespace mcunet::python
