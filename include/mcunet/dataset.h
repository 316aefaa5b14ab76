// Image classification data sets as plain bytes (no torch): Fashion-MNIST
// from Debian's dataset-fashion-mnist (gzipped IDX), any IDX pair, or an
// image folder (one sub-folder per class). Used by supernet training
// (src/nn/), PTQ calibration (src/quant/) and the main job (test images for
// the firmware).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcunet {

// N images of H x W x C uint8 pixels (NHWC), labels in [0, num_classes).
struct ImageDataset {
  std::string source;  // where it came from, for messages
  int height = 0, width = 0, channels = 0;
  int num_classes = 0;
  std::vector<uint8_t> pixels;  // size() * height * width * channels
  std::vector<int32_t> labels;
  std::vector<std::string> class_names;  // may be empty (IDX files have none)

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_bytes() const { return static_cast<int64_t>(height) * width * channels; }
  const uint8_t* image(int64_t i) const { return pixels.data() + i * image_bytes(); }
  // The images at `indices`, in that order (e.g. a split or a subset).
  ImageDataset Subset(const std::vector<int64_t>& indices) const;
};

// Debian's package location.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads an IDX image file (magic 0x0803, u8, N x H x W) and an IDX label
// file (0x0801), gzipped or not. Throws FileNotFound naming the file (and,
// for Fashion-MNIST, the Debian package to install), InvalidInput for a
// corrupt header, a truncated file or counts that disagree.
ImageDataset LoadIdx(const std::string& images_path, const std::string& labels_path);
// split "train" (60k) or "test" (10k) from `dir`.
ImageDataset LoadFashionMnist(const std::string& split, const std::string& dir = kFashionMnistDir);

// An image folder: one sub-folder per class (sorted names = class ids),
// images in any format stb_image reads (PNG, JPEG, BMP, PGM/PPM, ...), each
// converted to `channels` (1 grey or 3 RGB) and resized to size x size
// (bilinear). Throws FileNotFound for a missing folder, InvalidInput for a
// folder with no class folders or no images, naming an unreadable file.
ImageDataset LoadImageFolder(const std::string& dir, int size, int channels);

// A data set by name, as the CLI and configs spell it:
//   "fashion-mnist"          Debian's Fashion-MNIST, `split` train|test
//   "idx:<images>,<labels>"  an IDX pair (split ignored)
//   "<dir>"                  an image folder; <dir>/<split> if it exists
// `size`/`channels` only apply to image folders.
ImageDataset LoadImageData(const std::string& name, const std::string& split, int size = 32,
                           int channels = 1);

// Deterministic train / validation split of a training set: `val_count`
// images drawn by a seeded shuffle go to validation. The search must only
// ever see the validation part.
struct TrainValSplit {
  ImageDataset train;
  ImageDataset val;
};
TrainValSplit SplitTrainVal(const ImageDataset& data, int64_t val_count, uint64_t seed);

// Centre pad (if smaller) or centre crop (if larger) then bilinear resize so
// that every image becomes `size` x `size` (Fashion-MNIST 28 -> 32 pads 2
// pixels each side when resize is false; resize=true rescales instead).
ImageDataset ResizeImages(const ImageDataset& data, int size, bool resize = false);

}  // namespace mcunet
