// Data for supernet training and evaluation (torch-free): which data set,
// the held-out validation split, resizing to the sub-space's resolution,
// per-channel normalisation and augmentation into float NCHW batches.
//
// A data spec names the data set:
//   "fashion-mnist"              Debian's dataset-fashion-mnist (gzipped IDX)
//   "fashion-mnist:DIR"          the same files in DIR
//   "idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]"  any IDX pair(s)
//   "DIR" or "folder:DIR"        an image folder (one sub-folder per class);
//                                DIR/train and DIR/test when they exist
// The validation split is drawn from the training set (SplitTrainVal): the
// search only ever sees it, never the test set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mcunet/dataset.h"
#include "mcunet/search_space.h"

namespace mcunet::nn {

// Per-channel mean and std of pixel / 255 (FloatModel's input_mean/std).
struct Normalization {
  std::vector<float> mean;
  std::vector<float> std;
  bool operator==(const Normalization&) const = default;
};
// Statistics of `data` (all images). Throws InvalidInput if empty.
Normalization ComputeNormalization(const ImageDataset& data);
nlohmann::json NormalizationToJson(const Normalization& n);
Normalization NormalizationFromJson(const nlohmann::json& j, const std::string& source);

struct DataOptions {
  std::string spec = "fashion-mnist";
  int64_t val_count = 5000;   // images of the training set held out
  uint64_t split_seed = 0;
  int resolution = 32;        // images become resolution x resolution
  bool resize = false;        // false: centre pad/crop; true: bilinear resize
  int64_t limit_train = 0;    // >0: keep only the first N training images
  int64_t limit_val = 0;      // >0: keep only the first N validation images
  bool load_test = false;
  int channels = 1;           // image folders: 1 (grey) or 3 (RGB); set from the space

  // {"spec": ..., "val_count": ..., ...}; unknown keys are errors.
  nlohmann::json ToJson() const;
  static DataOptions FromJson(const nlohmann::json& j, const std::string& source);
};

struct DataSplits {
  ImageDataset train;
  ImageDataset val;
  ImageDataset test;  // empty unless load_test
};
// Loads, splits and resizes. Throws FileNotFound / InvalidInput naming the
// file (missing data, corrupt IDX) or the spec.
DataSplits LoadData(const DataOptions& options);

struct AugmentOptions {
  int crop_padding = 2;  // random crop of R x R from the image zero-padded by this
  bool flip = true;      // random horizontal flip
};

// Writes `n` normalised images data[indices[0..n)] as float NCHW into `out`
// (n * C * H * W floats). With `augment` (and `rng`), each image is randomly
// cropped and flipped first; draws come only from `rng`.
void MakeBatch(const ImageDataset& data, const int64_t* indices, int n, const Normalization& norm,
               const AugmentOptions* augment, Rng* rng, float* out);

// A seeded permutation of [0, n) (Fisher-Yates with Rng).
std::vector<int64_t> Shuffled(int64_t n, Rng& rng);

}  // namespace mcunet::nn
