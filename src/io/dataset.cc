#include "mcunet/dataset.h"

#include <stb/stb_image.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "mcunet/error.h"
#include "mcunet/search_space.h"  // Rng

namespace mcunet {

namespace fs = std::filesystem;

namespace {

// Whole file through zlib (reads gzip and plain files alike).
std::vector<uint8_t> ReadMaybeGzip(const std::string& path, const std::string& hint) {
  if (!fs::exists(path)) throw FileNotFound(path + ": no such file" + hint);
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw FileNotFound(path + ": cannot open" + hint);
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof(buf));
    if (n < 0) {
      int err = 0;
      const std::string msg = gzerror(f, &err);
      gzclose(f);
      throw InvalidInput(path + ": corrupt gzip data (" + msg + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  gzclose(f);
  return out;
}

uint32_t BigEndian32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// Checks an IDX header: magic 0x0000 08 <ndim>, then ndim big-endian sizes.
std::vector<uint32_t> IdxDims(const std::vector<uint8_t>& b, const std::string& path, int want_ndim) {
  if (b.size() < 4)
    throw InvalidInput(path + ": truncated IDX file (" + std::to_string(b.size()) + " bytes)");
  if (b[0] != 0 || b[1] != 0 || b[2] != 0x08) {
    throw InvalidInput(path + ": not an unsigned-byte IDX file (magic bytes " + std::to_string(b[0]) + " " +
                       std::to_string(b[1]) + " " + std::to_string(b[2]) + ", expected 0 0 8)");
  }
  if (b[3] != want_ndim) {
    throw InvalidInput(path + ": IDX file has " + std::to_string(b[3]) + " dimensions, expected " +
                       std::to_string(want_ndim));
  }
  const size_t header = 4 + 4 * static_cast<size_t>(want_ndim);
  if (b.size() < header) throw InvalidInput(path + ": truncated IDX header");
  std::vector<uint32_t> dims;
  uint64_t total = 1;
  for (int i = 0; i < want_ndim; ++i) {
    dims.push_back(BigEndian32(b, 4 + 4 * i));
    total *= dims.back();
    if (total > (uint64_t{1} << 34)) throw InvalidInput(path + ": IDX dimensions are implausibly large");
  }
  if (b.size() - header != total) {
    throw InvalidInput(path + ": IDX payload has " + std::to_string(b.size() - header) +
                       " bytes, header says " + std::to_string(total));
  }
  return dims;
}

float Bilinear(const uint8_t* img, int h, int w, int c, int ch, float y, float x) {
  y = std::clamp(y, 0.0f, static_cast<float>(h - 1));
  x = std::clamp(x, 0.0f, static_cast<float>(w - 1));
  const int y0 = static_cast<int>(y), x0 = static_cast<int>(x);
  const int y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
  const float dy = y - y0, dx = x - x0;
  auto at = [&](int yy, int xx) { return static_cast<float>(img[(yy * w + xx) * c + ch]); };
  return (1 - dy) * ((1 - dx) * at(y0, x0) + dx * at(y0, x1)) +
         dy * ((1 - dx) * at(y1, x0) + dx * at(y1, x1));
}

// Bilinear resize of one HWC image (align-corners = false, pixel centres).
void ResizeOne(const uint8_t* in, int h, int w, int c, uint8_t* out, int oh, int ow) {
  const float sy = static_cast<float>(h) / oh, sx = static_cast<float>(w) / ow;
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      for (int ch = 0; ch < c; ++ch) {
        const float v = Bilinear(in, h, w, c, ch, (y + 0.5f) * sy - 0.5f, (x + 0.5f) * sx - 0.5f);
        out[(y * ow + x) * c + ch] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
}

bool IsImageFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  for (const char* e : {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pnm", ".gif", ".tga"}) {
    if (ext == e) return true;
  }
  return false;
}

}  // namespace

ImageDataset ImageDataset::Subset(const std::vector<int64_t>& indices) const {
  ImageDataset out;
  out.source = source;
  out.height = height;
  out.width = width;
  out.channels = channels;
  out.num_classes = num_classes;
  out.class_names = class_names;
  const int64_t ib = image_bytes();
  out.pixels.resize(indices.size() * ib);
  out.labels.reserve(indices.size());
  for (size_t k = 0; k < indices.size(); ++k) {
    const int64_t i = indices[k];
    if (i < 0 || i >= size()) {
      throw InvalidInput(source + ": image index " + std::to_string(i) + " out of range [0, " +
                         std::to_string(size()) + ")");
    }
    std::memcpy(out.pixels.data() + k * ib, image(i), ib);
    out.labels.push_back(labels[i]);
  }
  return out;
}

ImageDataset LoadIdx(const std::string& images_path, const std::string& labels_path) {
  const std::string hint =
      images_path.find(kFashionMnistDir) == 0 ? " (install the Debian package dataset-fashion-mnist)" : "";
  const std::vector<uint8_t> ib = ReadMaybeGzip(images_path, hint);
  const std::vector<uint8_t> lb = ReadMaybeGzip(labels_path, hint);
  const std::vector<uint32_t> idims = IdxDims(ib, images_path, 3);
  const std::vector<uint32_t> ldims = IdxDims(lb, labels_path, 1);
  if (idims[0] != ldims[0]) {
    throw InvalidInput(images_path + ": " + std::to_string(idims[0]) + " images but " + labels_path +
                       " has " + std::to_string(ldims[0]) + " labels");
  }
  if (idims[1] == 0 || idims[2] == 0) throw InvalidInput(images_path + ": images of size 0");
  ImageDataset d;
  d.source = images_path;
  d.height = static_cast<int>(idims[1]);
  d.width = static_cast<int>(idims[2]);
  d.channels = 1;
  d.pixels.assign(ib.begin() + 16, ib.end());
  d.labels.reserve(ldims[0]);
  int max_label = -1;
  for (size_t i = 8; i < lb.size(); ++i) {
    d.labels.push_back(lb[i]);
    max_label = std::max<int>(max_label, lb[i]);
  }
  d.num_classes = max_label + 1;
  return d;
}

ImageDataset LoadFashionMnist(const std::string& split, const std::string& dir) {
  std::string prefix;
  if (split == "train") {
    prefix = "train";
  } else if (split == "test") {
    prefix = "t10k";
  } else {
    throw InvalidInput("fashion-mnist: unknown split '" + split + "' (train or test)");
  }
  ImageDataset d =
      LoadIdx(dir + "/" + prefix + "-images-idx3-ubyte.gz", dir + "/" + prefix + "-labels-idx1-ubyte.gz");
  d.num_classes = 10;
  d.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return d;
}

ImageDataset LoadImageFolder(const std::string& dir, int size, int channels) {
  if (channels != 1 && channels != 3)
    throw InvalidInput(dir + ": channels must be 1 or 3, got " + std::to_string(channels));
  if (size <= 0) throw InvalidInput(dir + ": image size must be > 0");
  if (!fs::is_directory(dir)) throw FileNotFound(dir + ": no such image folder");
  std::vector<fs::path> classes;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory()) classes.push_back(e.path());
  }
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw InvalidInput(dir + ": no class folders (expected one sub-folder per class)");
  ImageDataset d;
  d.source = dir;
  d.height = d.width = size;
  d.channels = channels;
  d.num_classes = static_cast<int>(classes.size());
  std::vector<uint8_t> resized(static_cast<size_t>(size) * size * channels);
  for (size_t c = 0; c < classes.size(); ++c) {
    d.class_names.push_back(classes[c].filename().string());
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(classes[c])) {
      if (e.is_regular_file() && IsImageFile(e.path())) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      int w = 0, h = 0, n = 0;
      unsigned char* px = stbi_load(f.c_str(), &w, &h, &n, channels);
      if (px == nullptr) {
        throw InvalidInput(f.string() + ": unreadable image (" + std::string(stbi_failure_reason()) + ")");
      }
      ResizeOne(px, h, w, channels, resized.data(), size, size);
      stbi_image_free(px);
      d.pixels.insert(d.pixels.end(), resized.begin(), resized.end());
      d.labels.push_back(static_cast<int32_t>(c));
    }
  }
  if (d.labels.empty()) throw InvalidInput(dir + ": no images found in its class folders");
  return d;
}

ImageDataset LoadImageData(const std::string& name, const std::string& split, int size, int channels) {
  if (name == "fashion-mnist" || name == "fmnist") return LoadFashionMnist(split);
  if (name.rfind("idx:", 0) == 0) {
    const std::string rest = name.substr(4);
    const size_t comma = rest.find(',');
    if (comma == std::string::npos)
      throw InvalidInput("data set '" + name + "': expected idx:<images>,<labels>");
    return LoadIdx(rest.substr(0, comma), rest.substr(comma + 1));
  }
  const fs::path sub = fs::path(name) / split;
  if (fs::is_directory(sub)) return LoadImageFolder(sub.string(), size, channels);
  if (fs::is_directory(name)) return LoadImageFolder(name, size, channels);
  throw FileNotFound("data set '" + name +
                     "': not 'fashion-mnist', 'idx:<images>,<labels>' or an "
                     "existing image folder");
}

TrainValSplit SplitTrainVal(const ImageDataset& data, int64_t val_count, uint64_t seed) {
  if (val_count < 0 || val_count >= data.size()) {
    throw InvalidInput(data.source + ": validation split of " + std::to_string(val_count) +
                       " images out of " + std::to_string(data.size()));
  }
  std::vector<int64_t> idx(data.size());
  std::iota(idx.begin(), idx.end(), 0);
  Rng rng(seed);
  for (int64_t i = data.size() - 1; i > 0; --i) {  // Fisher-Yates with the portable Rng
    std::swap(idx[i], idx[static_cast<int64_t>(rng.Below(static_cast<uint64_t>(i) + 1))]);
  }
  std::vector<int64_t> val(idx.begin(), idx.begin() + val_count);
  std::vector<int64_t> train(idx.begin() + val_count, idx.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {data.Subset(train), data.Subset(val)};
}

ImageDataset ResizeImages(const ImageDataset& data, int size, bool resize) {
  if (size <= 0) throw InvalidInput(data.source + ": target size must be > 0");
  if (data.height == size && data.width == size) return data;
  ImageDataset out = data;
  out.height = out.width = size;
  const int c = data.channels;
  const int64_t ob = static_cast<int64_t>(size) * size * c;
  out.pixels.assign(data.size() * ob, 0);
  for (int64_t i = 0; i < data.size(); ++i) {
    const uint8_t* in = data.image(i);
    uint8_t* o = out.pixels.data() + i * ob;
    if (resize) {
      ResizeOne(in, data.height, data.width, c, o, size, size);
      continue;
    }
    // Centre pad or crop per axis.
    const int oy = (size - data.height) / 2, ox = (size - data.width) / 2;
    for (int y = 0; y < size; ++y) {
      const int sy = y - oy;
      if (sy < 0 || sy >= data.height) continue;
      for (int x = 0; x < size; ++x) {
        const int sx = x - ox;
        if (sx < 0 || sx >= data.width) continue;
        std::memcpy(o + (static_cast<int64_t>(y) * size + x) * c,
                    in + (static_cast<int64_t>(sy) * data.width + sx) * c, c);
      }
    }
  }
  return out;
}

}  // namespace mcunet
