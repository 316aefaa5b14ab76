// Data loading, splitting, normalisation and augmentation (torch-free).
#include "mcunet/nn/data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "mcunet/error.h"

namespace mcunet::nn {

Normalization ComputeNormalization(const ImageDataset& data) {
  if (data.size() == 0 || data.channels <= 0) throw InvalidInput(data.source + ": no images to compute the normalisation from");
  const int c = data.channels;
  std::vector<double> sum(c, 0.0), sq(c, 0.0);
  const int64_t pixels = data.size() * data.height * data.width;
  for (int64_t p = 0; p < pixels; ++p) {
    for (int k = 0; k < c; ++k) {
      const double v = data.pixels[p * c + k] / 255.0;
      sum[k] += v;
      sq[k] += v * v;
    }
  }
  Normalization n;
  for (int k = 0; k < c; ++k) {
    const double mean = sum[k] / pixels;
    const double var = std::max(sq[k] / pixels - mean * mean, 1e-12);
    n.mean.push_back(static_cast<float>(mean));
    n.std.push_back(static_cast<float>(std::sqrt(var)));
  }
  return n;
}

nlohmann::json NormalizationToJson(const Normalization& n) { return {{"mean", n.mean}, {"std", n.std}}; }

Normalization NormalizationFromJson(const nlohmann::json& j, const std::string& source) {
  JsonReader r(source);
  Normalization n;
  n.mean = r.Get<std::vector<float>>(j, "mean", "normalization.");
  n.std = r.Get<std::vector<float>>(j, "std", "normalization.");
  if (n.mean.size() != n.std.size() || n.mean.empty()) r.Fail("normalization.", "std", "mean and std must have the same, non-zero size");
  for (float s : n.std) {
    if (!(s > 0)) r.Fail("normalization.", "std", "every std must be > 0");
  }
  return n;
}

nlohmann::json DataOptions::ToJson() const {
  return {{"spec", spec},           {"val_count", val_count},     {"split_seed", split_seed},
          {"resolution", resolution}, {"resize", resize},         {"limit_train", limit_train},
          {"limit_val", limit_val}};
}

DataOptions DataOptions::FromJson(const nlohmann::json& j, const std::string& source) {
  JsonReader r(source);
  if (!j.is_object()) throw InvalidInput(source + ": data: expected an object");
  static const char* kKeys[] = {"spec", "val_count", "split_seed", "resolution", "resize", "limit_train", "limit_val"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find_if(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return it.key() == k; }) == std::end(kKeys)) {
      r.Fail("data.", it.key(), "unknown field");
    }
  }
  DataOptions o;
  o.spec = r.Get<std::string>(j, "spec", "data.", o.spec);
  o.val_count = r.Get<int64_t>(j, "val_count", "data.", o.val_count);
  o.split_seed = r.Get<uint64_t>(j, "split_seed", "data.", o.split_seed);
  o.resolution = r.Get<int>(j, "resolution", "data.", o.resolution);
  o.resize = r.Get<bool>(j, "resize", "data.", o.resize);
  o.limit_train = r.Get<int64_t>(j, "limit_train", "data.", o.limit_train);
  o.limit_val = r.Get<int64_t>(j, "limit_val", "data.", o.limit_val);
  if (o.val_count < 0) r.Fail("data.", "val_count", "must be >= 0");
  if (o.resolution <= 0) r.Fail("data.", "resolution", "must be > 0");
  return o;
}

namespace {

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(',', start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

ImageDataset Head(const ImageDataset& d, int64_t n) {
  if (n <= 0 || n >= d.size()) return d;
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  return d.Subset(idx);
}

}  // namespace

DataSplits LoadData(const DataOptions& o) {
  ImageDataset train, test;
  bool has_test = false;
  if (o.spec == "fashion-mnist" || o.spec.rfind("fashion-mnist:", 0) == 0) {
    const std::string dir = o.spec == "fashion-mnist" ? std::string(kFashionMnistDir) : o.spec.substr(14);
    train = LoadFashionMnist("train", dir);
    if (o.load_test) {
      test = LoadFashionMnist("test", dir);
      has_test = true;
    }
  } else if (o.spec.rfind("idx:", 0) == 0) {
    const auto files = SplitComma(o.spec.substr(4));
    if (files.size() != 2 && files.size() != 4) {
      throw InvalidInput("data spec \"" + o.spec + "\": expected idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]");
    }
    train = LoadIdx(files[0], files[1]);
    if (o.load_test) {
      if (files.size() != 4) throw InvalidInput("data spec \"" + o.spec + "\": no test files given (idx:TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,TEST_LABELS)");
      test = LoadIdx(files[2], files[3]);
      has_test = true;
    }
  } else {
    // An image folder: DIR/train (and DIR/test) if present, else DIR itself.
    namespace fs = std::filesystem;
    const std::string dir = o.spec.rfind("folder:", 0) == 0 ? o.spec.substr(7) : o.spec;
    if (!fs::is_directory(dir)) {
      throw FileNotFound("data spec \"" + o.spec +
                         "\": not a directory; expected fashion-mnist, fashion-mnist:DIR, "
                         "idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS] or an image folder");
    }
    const bool split_dirs = fs::is_directory(fs::path(dir) / "train");
    train = LoadImageFolder(split_dirs ? (fs::path(dir) / "train").string() : dir, o.resolution, o.channels);
    if (o.load_test && split_dirs && fs::is_directory(fs::path(dir) / "test")) {
      test = LoadImageFolder((fs::path(dir) / "test").string(), o.resolution, o.channels);
      has_test = true;
    }
  }
  if (o.val_count >= train.size()) {
    throw InvalidInput(train.source + ": val_count " + std::to_string(o.val_count) + " leaves no training images (" +
                       std::to_string(train.size()) + " in total)");
  }
  TrainValSplit split = SplitTrainVal(train, o.val_count, o.split_seed);
  DataSplits out;
  out.train = ResizeImages(Head(split.train, o.limit_train), o.resolution, o.resize);
  out.val = ResizeImages(Head(split.val, o.limit_val), o.resolution, o.resize);
  if (has_test) out.test = ResizeImages(test, o.resolution, o.resize);
  return out;
}

void MakeBatch(const ImageDataset& data, const int64_t* indices, int n, const Normalization& norm,
               const AugmentOptions* augment, Rng* rng, float* out) {
  const int h = data.height, w = data.width, c = data.channels;
  const int plane = h * w;
  std::vector<float> scale(c), shift(c);
  for (int k = 0; k < c; ++k) {
    scale[k] = 1.0f / (255.0f * norm.std[k]);
    shift[k] = -norm.mean[k] / norm.std[k];
  }
  for (int i = 0; i < n; ++i) {
    const uint8_t* img = data.image(indices[i]);
    float* dst = out + static_cast<int64_t>(i) * c * plane;
    int dy = 0, dx = 0;
    bool flip = false;
    if (augment != nullptr) {
      const int p = augment->crop_padding;
      if (p > 0) {
        dy = static_cast<int>(rng->Below(2 * p + 1)) - p;
        dx = static_cast<int>(rng->Below(2 * p + 1)) - p;
      }
      if (augment->flip) flip = rng->Below(2) == 1;
    }
    for (int y = 0; y < h; ++y) {
      const int sy = y + dy;
      for (int x = 0; x < w; ++x) {
        const int sx0 = flip ? (w - 1 - x) : x;
        const int sx = sx0 + dx;
        const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        for (int k = 0; k < c; ++k) {
          // Padding is black (pixel 0), as the zero padding of a crop.
          const float pix = inside ? img[(sy * w + sx) * c + k] : 0.0f;
          dst[k * plane + y * w + x] = pix * scale[k] + shift[k];
        }
      }
    }
  }
}

std::vector<int64_t> Shuffled(int64_t n, Rng& rng) {
  std::vector<int64_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.Below(i + 1)]);
  return p;
}

}  // namespace mcunet::nn
