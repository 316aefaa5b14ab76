// `mcunet quantize`: FloatModel JSON + data set -> int8 .tflite, with float
// vs int8 top-1 on the validation and test splits (int8 through the
// generated code run on the host).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/float_model_quantize.h"
#include "mcunet/codegen.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/float_forward.h"
#include "mcunet/ptq.h"
#include "mcunet/tflite_writer.h"

namespace mcunet::cli {

void AddQuantizeOptions(CLI::App* cmd, QuantizeCliOptions* o, bool require_model) {
  auto* fm = cmd->add_option("--float-model", o->float_model_path, "Float model JSON (SaveFloatModel)");
  if (require_model) fm->required();
  cmd->add_option("--data", o->data,
                  "Data set: fashion-mnist, idx:<images>,<labels> or an image folder (train/ and test/)")
      ->capture_default_str();
  cmd->add_option("--calib-images", o->calib_images, "Calibration images from the training split")
      ->capture_default_str();
  cmd->add_option("--val-count", o->val_count, "Images of the training set held out for validation")
      ->capture_default_str();
  cmd->add_option("--split-seed", o->split_seed, "Seed of the train / validation split")->capture_default_str();
  cmd->add_flag("--resize", o->resize, "Resize images bilinearly to the model's resolution (default: pad/crop)");
  cmd->add_option("--percentile", o->percentile,
                  "Percentile calibration keeping this share of values (e.g. 99.99); default min/max");
}

ImageDataset LoadDataForModel(const QuantizeCliOptions& o, const FloatModel& m, const std::string& split) {
  const int r = m.arch.resolution, c = m.arch.in_channels;
  ImageDataset d = LoadImageData(o.data, split, r, c);
  if (d.channels != c) {
    throw InvalidInput("data set '" + o.data + "' (" + split + "): images have " + std::to_string(d.channels) +
                       " channels, the float model '" + o.float_model_path + "' expects " + std::to_string(c) +
                       " (arch.in_channels)");
  }
  if (d.height != r || d.width != r) d = ResizeImages(d, r, o.resize);
  return d;
}

QuantizedFromCli QuantizeFromCli(const QuantizeCliOptions& o) {
  if (o.calib_images < 1) throw InvalidInput("--calib-images must be >= 1, got " + std::to_string(o.calib_images));
  QuantizedFromCli q;
  q.model = LoadFloatModel(o.float_model_path);
  const ImageDataset train = LoadDataForModel(o, q.model, "train");
  q.split = SplitTrainVal(train, o.val_count, o.split_seed);
  q.calib_count = std::min<int64_t>(o.calib_images, q.split.train.size());
  // An evenly spread subset of the training split (not only its first class).
  std::vector<int64_t> idx(q.calib_count);
  for (int64_t i = 0; i < q.calib_count; ++i) idx[i] = i * q.split.train.size() / q.calib_count;
  const ImageDataset calib = q.split.train.Subset(idx);
  PtqOptions po;
  if (o.percentile > 0) {
    po.method = CalibrationMethod::kPercentile;
    po.percentile = o.percentile;
  }
  q.graph = QuantizeModel(q.model, NormalizeImages(q.model, calib), q.calib_count, po);
  if (q.graph.name.empty()) q.graph.name = q.model.arch.name;
  return q;
}

namespace {

struct Accuracy {
  int64_t images = 0;
  double float_top1 = 0, int8_top1 = 0, agreement = 0;
};

// Float top-1 via FloatForward, int8 top-1 via the generated code on the host.
Accuracy Evaluate(const FloatModel& m, const Graph& g, const GeneratedCode& code, const ImageDataset& data,
                  int64_t limit, const std::string& runtime_dir) {
  Accuracy a;
  a.images = limit >= 0 ? std::min<int64_t>(limit, data.size()) : data.size();
  if (a.images == 0) return a;
  std::vector<int64_t> idx(a.images);
  std::iota(idx.begin(), idx.end(), 0);
  const ImageDataset d = a.images == data.size() ? data : data.Subset(idx);
  const int classes = m.arch.num_classes;
  const std::vector<int32_t> fp = ArgmaxRows(FloatForward(m, NormalizeImages(m, d), a.images), classes);
  const std::vector<int8_t> in = QuantizeImages(m, g, d.pixels.data(), a.images);
  HostRunOptions ro;
  ro.runtime_dir = runtime_dir;
  const HostRunResult r = RunOnHost(code, in, ro);
  int64_t fc = 0, qc = 0, agree = 0;
  for (int64_t i = 0; i < a.images; ++i) {
    const auto row = r.outputs.begin() + i * classes;
    const int32_t qp = static_cast<int32_t>(std::max_element(row, row + classes) - row);
    fc += fp[i] == d.labels[i];
    qc += qp == d.labels[i];
    agree += qp == fp[i];
  }
  a.float_top1 = 100.0 * fc / a.images;
  a.int8_top1 = 100.0 * qc / a.images;
  a.agreement = 100.0 * agree / a.images;
  return a;
}

std::string RuntimeDirDefault() {
  if (const char* env = std::getenv("MCUNET_RUNTIME_DIR"); env && *env) return env;
#if defined(MCUNET_ENGINE_DIR)
  return (std::filesystem::path(MCUNET_ENGINE_DIR) / "runtime").string();
#else
  return "";
#endif
}

}  // namespace

void RegisterQuantize(CLI::App& app) {
  struct Options {
    QuantizeCliOptions q;
    std::string out;
    bool float_io = false;
    int64_t eval_images = -1;
    bool no_eval = false;
    std::string runtime_dir;
    bool json = false;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("quantize",
                                 "Post-training int8 quantisation (TFLite spec) of a float model to .tflite; "
                                 "prints float vs int8 top-1 on the validation and test splits");
  AddQuantizeOptions(cmd, &opt->q, /*require_model=*/true);
  cmd->add_option("--out", opt->out, "Output .tflite")->required();
  cmd->add_flag("--float-io", opt->float_io, "Float32 input/output with QUANTIZE/DEQUANTIZE ops (default int8 I/O)");
  cmd->add_option("--eval-images", opt->eval_images, "Evaluate on at most this many images per split (default all)");
  cmd->add_flag("--no-eval", opt->no_eval, "Skip the accuracy evaluation");
  cmd->add_option("--runtime-dir", opt->runtime_dir, "engine/runtime of the mcunet sources (default: the build's)");
  cmd->add_flag("--json", opt->json, "Print a JSON object");
  cmd->callback([opt] {
    const QuantizedFromCli q = QuantizeFromCli(opt->q);
    TfliteWriteOptions wo;
    wo.float_io = opt->float_io;
    wo.description = "mcunet int8 PTQ of " + q.model.arch.name;
    WriteTfliteFile(q.graph, opt->out, wo);
    const CostReport report = EvaluateCost(q.graph, "tinyengine");
    nlohmann::json j = {{"model", q.model.arch.name},
                        {"out", opt->out},
                        {"calibration_images", q.calib_count},
                        {"calibration", opt->q.percentile > 0 ? "percentile" : "minmax"},
                        {"peak_sram_bytes", report.peak_sram_bytes()},
                        {"flash_bytes", report.flash_bytes()}};
    if (!opt->no_eval) {
      const GeneratedCode code = GenerateCode(report);
      const std::string rt = opt->runtime_dir.empty() ? RuntimeDirDefault() : opt->runtime_dir;
      const ImageDataset test = LoadDataForModel(opt->q, q.model, "test");
      for (const auto& [name, data] : {std::pair<std::string, const ImageDataset*>{"val", &q.split.val},
                                       std::pair<std::string, const ImageDataset*>{"test", &test}}) {
        const Accuracy a = Evaluate(q.model, q.graph, code, *data, opt->eval_images, rt);
        j[name] = {{"images", a.images},
                   {"float_top1", a.float_top1},
                   {"int8_top1", a.int8_top1},
                   {"argmax_agreement", a.agreement}};
      }
    }
    if (opt->json) {
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("model            %s\n", q.model.arch.name.c_str());
    std::printf("calibration      %lld images (%s)\n", static_cast<long long>(q.calib_count),
                j["calibration"].get<std::string>().c_str());
    std::printf("peak_sram_bytes  %lld\n", static_cast<long long>(report.peak_sram_bytes()));
    std::printf("flash_bytes      %lld\n", static_cast<long long>(report.flash_bytes()));
    if (!opt->no_eval) {
      std::printf("%-6s %8s %10s %10s %8s %10s\n", "split", "images", "float%", "int8%", "delta", "agree%");
      for (const char* s : {"val", "test"}) {
        const auto& a = j[s];
        std::printf("%-6s %8lld %10.2f %10.2f %+8.2f %10.2f\n", s, a["images"].get<long long>(),
                    a["float_top1"].get<double>(), a["int8_top1"].get<double>(),
                    a["int8_top1"].get<double>() - a["float_top1"].get<double>(), a["argmax_agreement"].get<double>());
      }
    }
    std::printf("wrote            %s%s\n", opt->out.c_str(), opt->float_io ? " (float I/O)" : " (int8 I/O)");
  });
}

}  // namespace mcunet::cli
