// Writes a few quantised random models as .tflite files into a directory:
// inputs for the Arm NN cross-check (armnn_check.py) and seeds for the
// .tflite fuzzer. Usage: make_test_models DIR
#include <cstdio>
#include <filesystem>
#include <string>

#include "mcunet/error.h"
#include "mcunet/ptq.h"
#include "mcunet/tflite_writer.h"
#include "random_float_model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  using namespace mcunet;
  const std::string dir = argv[1];
  std::filesystem::create_directories(dir);
  struct Spec {
    const char* file;
    const char* space;
    double width;
    int resolution;
    uint64_t seed;
    bool float_io;
  };
  const Spec specs[] = {
      {"fmnist_w05_r28_int8.tflite", "fmnist_small.json", 0.5, 28, 1, false},
      {"fmnist_w05_r32_float_io.tflite", "fmnist_small.json", 0.5, 32, 2, true},
      {"mcunet_w03_r48_int8.tflite", "mcunet.json", 0.3, 48, 3, false},
  };
  try {
    for (const Spec& s : specs) {
      const Arch arch = SampleArch(std::string(MCUNET_SOURCE_DIR "/search_spaces/") + s.space, s.width, s.resolution,
                                   s.seed, 10);
      const FloatModel m = RandomFloatModel(arch, s.seed);
      ImageDataset calib;
      calib.height = calib.width = arch.resolution;
      calib.channels = arch.in_channels;
      calib.pixels = RandomImages(arch.resolution, arch.in_channels, 16, s.seed + 100);
      calib.labels.assign(16, 0);
      const Graph g = QuantizeModel(m, NormalizeImages(m, calib), 16);
      TfliteWriteOptions o;
      o.float_io = s.float_io;
      WriteTfliteFile(g, dir + "/" + s.file, o);
      std::printf("%s/%s\n", dir.c_str(), s.file);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "make_test_models: %s\n", e.what());
    return 2;
  }
  return 0;
}
