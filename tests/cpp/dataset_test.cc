// Data sets: Fashion-MNIST from Debian's package, IDX corruption, splits,
// padding/resizing and image folders.
#include "mcunet/dataset.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "mcunet/error.h"

namespace mcunet {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mcunet_dataset_test_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void WriteBytes(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::vector<uint8_t> IdxImages(uint32_t n, uint32_t h, uint32_t w) {
  std::vector<uint8_t> b = {0, 0, 8, 3};
  for (uint32_t v : {n, h, w}) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  }
  for (uint32_t i = 0; i < n * h * w; ++i) b.push_back(static_cast<uint8_t>(i));
  return b;
}

std::vector<uint8_t> IdxLabels(uint32_t n) {
  std::vector<uint8_t> b = {0, 0, 8, 1};
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(n >> s));
  for (uint32_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(i % 3));
  return b;
}

TEST(FashionMnist, LoadsBothSplitsFromTheDebianPackage) {
  if (!fs::exists(kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const ImageDataset test = LoadFashionMnist("test");
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(test.height, 28);
  EXPECT_EQ(test.width, 28);
  EXPECT_EQ(test.channels, 1);
  EXPECT_EQ(test.num_classes, 10);
  EXPECT_EQ(test.class_names.size(), 10u);
  std::vector<int> per_class(10, 0);
  for (int32_t l : test.labels) per_class.at(l)++;
  for (int c : per_class) EXPECT_EQ(c, 1000);  // the test split is balanced
  EXPECT_THROW(LoadFashionMnist("validation"), InvalidInput);
}

TEST(FashionMnist, MissingDirectoryNamesTheFile) {
  try {
    LoadFashionMnist("train", "/nonexistent/fashion");
    FAIL();
  } catch (const FileNotFound& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fashion/train-images-idx3-ubyte.gz"), std::string::npos);
  }
}

TEST(Idx, ReadsPlainAndGzippedFiles) {
  const fs::path d = TempDir("idx");
  WriteBytes(d / "img", IdxImages(5, 2, 3));
  WriteBytes(d / "lbl", IdxLabels(5));
  const ImageDataset plain = LoadIdx((d / "img").string(), (d / "lbl").string());
  ASSERT_EQ(plain.size(), 5);
  EXPECT_EQ(plain.height, 2);
  EXPECT_EQ(plain.width, 3);
  EXPECT_EQ(plain.num_classes, 3);
  EXPECT_EQ(plain.image(1)[0], 6);
  // gzip the image file: same contents.
  const std::vector<uint8_t> raw = IdxImages(5, 2, 3);
  gzFile g = gzopen((d / "img.gz").c_str(), "wb");
  gzwrite(g, raw.data(), static_cast<unsigned>(raw.size()));
  gzclose(g);
  const ImageDataset gz = LoadIdx((d / "img.gz").string(), (d / "lbl").string());
  EXPECT_EQ(gz.pixels, plain.pixels);
}

TEST(Idx, CorruptHeadersAreClearErrors) {
  const fs::path d = TempDir("idx_bad");
  WriteBytes(d / "lbl", IdxLabels(5));
  std::vector<uint8_t> bad_magic = IdxImages(5, 2, 3);
  bad_magic[2] = 0x0d;  // float data
  WriteBytes(d / "magic", bad_magic);
  std::vector<uint8_t> truncated = IdxImages(5, 2, 3);
  truncated.resize(truncated.size() - 4);
  WriteBytes(d / "trunc", truncated);
  WriteBytes(d / "tiny", {0, 0});
  WriteBytes(d / "count", IdxImages(4, 2, 3));
  for (const char* name : {"magic", "trunc", "tiny", "count"}) {
    try {
      LoadIdx((d / name).string(), (d / "lbl").string());
      FAIL() << name;
    } catch (const InvalidInput& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(LoadIdx((d / "missing").string(), (d / "lbl").string()), FileNotFound);
}

TEST(Split, IsDeterministicDisjointAndComplete) {
  const fs::path d = TempDir("split");
  WriteBytes(d / "img", IdxImages(100, 1, 1));
  WriteBytes(d / "lbl", IdxLabels(100));
  const ImageDataset all = LoadIdx((d / "img").string(), (d / "lbl").string());
  const TrainValSplit a = SplitTrainVal(all, 20, 7);
  const TrainValSplit b = SplitTrainVal(all, 20, 7);
  const TrainValSplit c = SplitTrainVal(all, 20, 8);
  EXPECT_EQ(a.val.size(), 20);
  EXPECT_EQ(a.train.size(), 80);
  EXPECT_EQ(a.val.pixels, b.val.pixels);
  EXPECT_NE(a.val.pixels, c.val.pixels);
  std::set<uint8_t> seen(a.train.pixels.begin(), a.train.pixels.end());
  for (uint8_t p : a.val.pixels) EXPECT_TRUE(seen.insert(p).second);  // pixel value = image index
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_THROW(SplitTrainVal(all, 100, 1), InvalidInput);
}

TEST(Resize, PadsCentredAndResizesBilinear) {
  ImageDataset d;
  d.height = d.width = 2;
  d.channels = 1;
  d.pixels = {10, 20, 30, 40};
  d.labels = {0};
  const ImageDataset padded = ResizeImages(d, 4);
  EXPECT_EQ(padded.pixels, (std::vector<uint8_t>{0, 0, 0, 0, 0, 10, 20, 0, 0, 30, 40, 0, 0, 0, 0, 0}));
  const ImageDataset cropped = ResizeImages(padded, 2);
  EXPECT_EQ(cropped.pixels, d.pixels);
  const ImageDataset scaled = ResizeImages(d, 4, /*resize=*/true);
  EXPECT_EQ(scaled.pixels[0], 10);
  EXPECT_EQ(scaled.pixels[15], 40);
  EXPECT_GT(scaled.pixels[5], 10);
  EXPECT_LT(scaled.pixels[5], 40);
}

void WritePgm(const fs::path& p, int w, int h, uint8_t value) {
  std::ofstream f(p, std::ios::binary);
  f << "P5\n" << w << " " << h << "\n255\n";
  for (int i = 0; i < w * h; ++i) f.put(static_cast<char>(value));
}

TEST(ImageFolder, OneFolderPerClass) {
  const fs::path d = TempDir("folder");
  fs::create_directories(d / "cat");
  fs::create_directories(d / "dog");
  WritePgm(d / "cat" / "a.pgm", 8, 8, 50);
  WritePgm(d / "cat" / "b.pgm", 16, 4, 60);
  WritePgm(d / "dog" / "c.pgm", 8, 8, 200);
  const ImageDataset ds = LoadImageFolder(d.string(), 4, 1);
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.num_classes, 2);
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(ds.labels, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(ds.image(2)[5], 200);
  const ImageDataset rgb = LoadImageFolder(d.string(), 4, 3);
  EXPECT_EQ(rgb.image_bytes(), 48);
}

TEST(ImageFolder, EmptyOrUnreadableIsAClearError) {
  const fs::path d = TempDir("folder_bad");
  EXPECT_THROW(LoadImageFolder(d.string(), 4, 1), InvalidInput);  // no class folders
  fs::create_directories(d / "a");
  EXPECT_THROW(LoadImageFolder(d.string(), 4, 1), InvalidInput);  // no images
  std::ofstream(d / "a" / "broken.png") << "not a png";
  try {
    LoadImageFolder(d.string(), 4, 1);
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("broken.png"), std::string::npos) << e.what();
  }
  EXPECT_THROW(LoadImageFolder((d / "nope").string(), 4, 1), FileNotFound);
  EXPECT_THROW(LoadImageData("no-such-data-set", "train"), FileNotFound);
}

}  // namespace
}  // namespace mcunet
