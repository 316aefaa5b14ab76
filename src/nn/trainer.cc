// Supernet training with the sandwich rule, subnet fine-tuning, and the
// shared resumable training loop (SGD with momentum, cosine schedule).
#include "mcunet/nn/trainer.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/json_util.h"
#include "mcunet/error.h"
#include "nn/bn_eval.h"
#include "nn/modules.h"

namespace mcunet::nn {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void ConfigureRuntime(int threads) {
  // glibc's default thresholds make libtorch's large, short-lived buffers
  // go through mmap/munmap and trim every step (3-15x slower steps here).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 256 << 20);
  torch::set_num_threads(threads);
}

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

bool NoDecay(const std::string& name) {
  return name.find("bn") != std::string::npos || name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
}

// What the loop needs from the model being trained.
struct Model {
  torch::nn::Module* module = nullptr;
  std::string kind;  // "supernet" or "subnet": the checkpoint kind
  // Forward + backward of one batch (gradients accumulate); returns the loss
  // and the number of correct predictions of the reference net.
  std::function<std::pair<double, int64_t>(const torch::Tensor&, const torch::Tensor&, Rng&)> step;
  std::function<void(std::map<std::string, torch::Tensor>*)> epoch_begin;
  // Validation accuracies after BN re-calibration: {reference, smallest or -1}.
  std::function<std::pair<double, double>()> evaluate;
  // Checkpoint header (space/arch, normalisation, data) without train_state.
  std::function<nlohmann::json()> meta;
};

std::string CurveCsv(const std::vector<EpochRecord>& curve) {
  std::ostringstream s;
  s << "epoch,lr,train_loss,train_acc,val_acc,val_acc_smallest,seconds,images_per_second\n";
  for (const EpochRecord& r : curve) {
    s << r.epoch << ',' << r.lr << ',' << r.train_loss << ',' << r.train_acc << ',' << r.val_acc << ','
      << r.val_acc_smallest << ',' << r.seconds << ',' << r.images_per_second << '\n';
  }
  return s.str();
}

nlohmann::json CurveJson(const std::vector<EpochRecord>& curve) {
  nlohmann::json a = nlohmann::json::array();
  for (const EpochRecord& r : curve) {
    a.push_back({{"epoch", r.epoch}, {"lr", r.lr}, {"train_loss", r.train_loss}, {"train_acc", r.train_acc},
                 {"val_acc", r.val_acc}, {"val_acc_smallest", r.val_acc_smallest}, {"seconds", r.seconds},
                 {"images_per_second", r.images_per_second}});
  }
  return a;
}

std::vector<EpochRecord> CurveFromJson(const nlohmann::json& a) {
  std::vector<EpochRecord> out;
  for (const auto& j : a) {
    EpochRecord r;
    r.epoch = j.at("epoch");
    r.lr = j.at("lr");
    r.train_loss = j.at("train_loss");
    r.train_acc = j.at("train_acc");
    r.val_acc = j.at("val_acc");
    r.val_acc_smallest = j.at("val_acc_smallest");
    r.seconds = j.at("seconds");
    r.images_per_second = j.at("images_per_second");
    out.push_back(r);
  }
  return out;
}

class Progress {
 public:
  Progress(bool enabled, int epoch, int epochs, int64_t steps)
      : enabled_(enabled), tty_(isatty(2) != 0), epoch_(epoch), epochs_(epochs), steps_(steps), start_(Clock::now()) {}
  void Update(int64_t step, double loss, double acc, int64_t images) {
    if (!enabled_) return;
    const auto now = Clock::now();
    const bool last = step == steps_;
    // On a terminal redraw 4x per second; in a log, a line every 10%.
    if (tty_) {
      if (!last && Seconds(last_, now) < 0.25) return;
    } else {
      const int64_t tenth = std::max<int64_t>(1, steps_ / 10);
      if (!last && step % tenth != 0) return;
    }
    last_ = now;
    const double t = std::max(1e-9, Seconds(start_, now));
    const int width = 24;
    const int filled = static_cast<int>(width * step / std::max<int64_t>(1, steps_));
    std::fprintf(stderr, "%sepoch %d/%d [%s%s] %lld/%lld loss %.4f acc %.2f%% %.0f img/s%s", tty_ ? "\r" : "", epoch_,
                 epochs_, std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                 static_cast<long long>(step), static_cast<long long>(steps_), loss, 100.0 * acc, images / t,
                 tty_ ? (last ? "\n" : "") : "\n");
    std::fflush(stderr);
  }

 private:
  bool enabled_, tty_;
  int epoch_, epochs_;
  int64_t steps_;
  Clock::time_point start_, last_{};
};

// The resumable loop shared by supernet training and fine-tuning.
TrainResult RunLoop(Model& model, const TrainConfig& cfg, const ImageDataset& train, const Normalization& norm,
                    const std::string& out_dir, const TrainOptions& opt, const std::string& final_name,
                    const std::function<void(const std::string&)>& save_final) {
  const auto t_start = Clock::now();
  fs::create_directories(out_dir);
  const std::string ckpt = (fs::path(out_dir) / "checkpoint.pt").string();
  if (train.size() == 0) throw InvalidInput(train.source + ": no training images");

  // Parameters, decay flags, momentum buffers (all allocated up front so that
  // every checkpoint holds every buffer).
  std::vector<std::pair<std::string, torch::Tensor>> params;
  for (const auto& item : model.module->named_parameters(true)) params.emplace_back(item.key(), item.value());
  std::map<std::string, torch::Tensor> momentum;
  for (const auto& [name, p] : params) momentum[name] = torch::zeros_like(p);

  const int64_t batch = std::min<int64_t>(cfg.batch_size, train.size());
  const int64_t steps_per_epoch = train.size() / batch;
  const int64_t total_steps = steps_per_epoch * cfg.epochs;
  const int64_t warmup_steps = steps_per_epoch * cfg.warmup_epochs;
  const auto lr_at = [&](int64_t step) {
    if (step < warmup_steps) return cfg.lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
    const double t = static_cast<double>(step - warmup_steps) / static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
    return 0.5 * cfg.lr * (1.0 + std::cos(M_PI * t));
  };

  Rng rng(cfg.seed);
  int start_epoch = 0;
  int64_t step = 0;
  std::vector<EpochRecord> curve;
  if (opt.resume) {
    const nlohmann::json meta = ReadArchiveMeta(ckpt, model.kind);
    try {
      const nlohmann::json& st = meta.at("train_state");
      if (st.at("config") != cfg.ToJson()) {
        throw InvalidInput(ckpt + ": train_state.config differs from this run's configuration; resume with the same "
                                  "config (stored in " + ckpt + ")");
      }
      start_epoch = st.at("epoch");
      step = st.at("step");
      rng = Rng::FromJson(st.at("rng"), ckpt + ": train_state.rng");
      curve = CurveFromJson(st.at("curve"));
    } catch (const nlohmann::json::exception& e) {
      throw InvalidInput(ckpt + ": train_state: " + e.what());
    }
    std::vector<std::string> names;
    for (const auto& [name, p] : params) names.push_back("momentum/" + name);
    std::map<std::string, torch::Tensor> extra;
    LoadArchiveState(ckpt, *model.module, &extra, names);
    for (auto& [name, buf] : momentum) {
      const torch::Tensor& v = extra.at("momentum/" + name);
      if (v.sizes() != buf.sizes()) throw InvalidInput(ckpt + ": momentum/" + name + ": shape mismatch");
      buf.copy_(v);
    }
    spdlog::info("resuming {} from {}: {} of {} epochs done", model.kind, ckpt, start_epoch, cfg.epochs);
  }

  std::vector<float> xbuf(static_cast<size_t>(batch * train.image_bytes()));
  std::vector<int64_t> ybuf(batch);
  TrainResult result;
  for (int epoch = start_epoch; epoch < cfg.epochs; ++epoch) {
    const auto t0 = Clock::now();
    model.module->train();
    if (model.epoch_begin) model.epoch_begin(&momentum);
    const std::vector<int64_t> order = Shuffled(train.size(), rng);
    Progress progress(opt.progress, epoch + 1, cfg.epochs, steps_per_epoch);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    double lr = cfg.lr;
    for (int64_t s = 0; s < steps_per_epoch; ++s, ++step) {
      const int64_t* idx = order.data() + s * batch;
      MakeBatch(train, idx, static_cast<int>(batch), norm, &cfg.augment, &rng, xbuf.data());
      for (int64_t i = 0; i < batch; ++i) ybuf[i] = train.labels[idx[i]];
      const torch::Tensor x =
          torch::from_blob(xbuf.data(), {batch, train.channels, train.height, train.width}, torch::kFloat32);
      const torch::Tensor y = torch::from_blob(ybuf.data(), {batch}, torch::kInt64);
      for (auto& [name, p] : params) {
        if (p.grad().defined()) p.mutable_grad().zero_();
      }
      const auto [loss, ok] = model.step(x, y, rng);
      if (!std::isfinite(loss)) throw Error(model.kind + " training diverged (loss " + std::to_string(loss) + ") at epoch " + std::to_string(epoch + 1) + "; lower lr");
      // SGD with momentum (and Nesterov), decoupled from torch::optim so that
      // its state is plain named tensors: checkpointed and permuted with the
      // channels.
      lr = lr_at(step);
      {
        torch::NoGradGuard guard;
        for (auto& [name, p] : params) {
          if (!p.grad().defined()) continue;
          torch::Tensor g = p.grad();
          if (cfg.weight_decay > 0 && !NoDecay(name)) g = g.add(p, cfg.weight_decay);
          torch::Tensor& buf = momentum[name];
          buf.mul_(cfg.momentum).add_(g);
          if (cfg.nesterov) {
            p.add_(g.add(buf, cfg.momentum), -lr);
          } else {
            p.add_(buf, -lr);
          }
        }
      }
      loss_sum += loss * batch;
      correct += ok;
      seen += batch;
      progress.Update(s + 1, loss_sum / seen, static_cast<double>(correct) / seen, seen);
    }
    EpochRecord rec;
    rec.epoch = epoch + 1;
    rec.lr = lr;
    rec.train_loss = loss_sum / std::max<int64_t>(1, seen);
    rec.train_acc = static_cast<double>(correct) / std::max<int64_t>(1, seen);
    const double train_seconds = Seconds(t0, Clock::now());
    rec.images_per_second = seen / std::max(1e-9, train_seconds);
    if (cfg.eval_each_epoch || epoch + 1 == cfg.epochs) {
      std::tie(rec.val_acc, rec.val_acc_smallest) = model.evaluate();
    } else {
      rec.val_acc = -1;
    }
    rec.seconds = Seconds(t0, Clock::now());
    curve.push_back(rec);
    if (rec.val_acc_smallest >= 0) {
      spdlog::info("epoch {}/{}: loss {:.4f} train acc {:.2f}% | val top-1 largest {:.2f}% smallest {:.2f}% | lr {:.4g} | {:.1f} s, {:.0f} img/s",
                   rec.epoch, cfg.epochs, rec.train_loss, 100 * rec.train_acc, 100 * rec.val_acc,
                   100 * rec.val_acc_smallest, rec.lr, rec.seconds, rec.images_per_second);
    } else {
      spdlog::info("epoch {}/{}: loss {:.4f} train acc {:.2f}% | val top-1 {:.2f}% | lr {:.4g} | {:.1f} s, {:.0f} img/s",
                   rec.epoch, cfg.epochs, rec.train_loss, 100 * rec.train_acc, 100 * rec.val_acc, rec.lr, rec.seconds,
                   rec.images_per_second);
    }
    // Checkpoint: state after this epoch, atomically.
    nlohmann::json meta = model.meta();
    meta["train_state"] = {{"epoch", epoch + 1}, {"step", step}, {"rng", rng.ToJson()},
                           {"config", cfg.ToJson()}, {"curve", CurveJson(curve)}};
    std::map<std::string, torch::Tensor> extra;
    for (const auto& [name, buf] : momentum) extra["momentum/" + name] = buf;
    SaveArchive(ckpt, *model.module, meta, extra);
    WriteTextFile(CurveCsv(curve), (fs::path(out_dir) / "curve.csv").string());
    if (opt.stop_after_epoch > 0 && epoch + 1 == opt.stop_after_epoch && epoch + 1 < cfg.epochs) {
      result.curve = curve;
      result.seconds = Seconds(t_start, Clock::now());
      return result;
    }
  }
  result.final_path = (fs::path(out_dir) / final_name).string();
  save_final(result.final_path);
  WriteTextFile(CurveCsv(curve), (fs::path(out_dir) / "curve.csv").string());
  result.curve = curve;
  result.finished = true;
  result.seconds = Seconds(t_start, Clock::now());
  return result;
}

torch::Tensor SoftCrossEntropy(const torch::Tensor& logits, const torch::Tensor& target_probs) {
  return -(target_probs * torch::log_softmax(logits, 1)).sum(1).mean();
}

}  // namespace

TrainResult TrainSupernet(const SearchSpace& space, const SubSpace& sub, const TrainConfig& config_in,
                          const std::string& out_dir, const TrainOptions& options) {
  TrainConfig cfg = config_in;
  cfg.data.resolution = sub.resolution;
  cfg.data.channels = space.in_channels;
  cfg.Validate("train-supernet");
  ConfigureRuntime(cfg.threads);
  if (options.resume) {
    // The checkpoint must exist and be for this space (RunLoop loads it).
    const std::string ckpt = (fs::path(out_dir) / "checkpoint.pt").string();
    Supernet::Load(ckpt).CheckSpace(space, sub, ckpt);
  }
  const DataSplits data = LoadData(cfg.data);
  if (data.train.channels != space.in_channels) {
    throw InvalidInput(data.train.source + ": images have " + std::to_string(data.train.channels) +
                       " channels, search space '" + space.name + "' expects " + std::to_string(space.in_channels));
  }
  if (data.train.num_classes > space.num_classes) {
    throw InvalidInput(data.train.source + ": " + std::to_string(data.train.num_classes) + " classes, search space '" +
                       space.name + "' has " + std::to_string(space.num_classes));
  }
  Supernet net(space, sub, cfg.seed);
  net.set_normalization(ComputeNormalization(data.train));
  net.meta()["data"] = cfg.data.ToJson();
  SupernetModuleImpl& m = *net.impl().module;
  m.bn_momentum = cfg.bn_momentum;
  spdlog::info("supernet {} {}: {:.2f} M parameters; {} training / {} validation images at {}x{}; {} threads",
               space.name, sub.Label(), net.num_parameters() / 1e6, data.train.size(), data.val.size(),
               sub.resolution, sub.resolution, cfg.threads);

  const Arch largest = net.LargestArch();
  const Genes largest_genes = space.Encode(sub, largest);
  const Arch smallest = net.SmallestArch();
  const Genes smallest_genes = space.Encode(sub, smallest);
  const auto xent = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(cfg.label_smoothing);
  Arch scratch;

  Model model;
  model.module = &m;
  model.kind = "supernet";
  model.step = [&](const torch::Tensor& x, const torch::Tensor& y, Rng& rng) {
    m.SetActive(largest, largest_genes);
    const torch::Tensor logits = m.forward(x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, xent);
    loss.backward();
    const double loss_value = loss.item<double>();
    const int64_t ok = logits.argmax(1).eq(y).sum().item<int64_t>();
    torch::Tensor teacher;
    if (cfg.distill) teacher = torch::softmax(logits.detach(), 1);
    const auto train_subnet = [&](const Arch& arch, const Genes& g) {
      m.SetActive(arch, g);
      const torch::Tensor out = m.forward(x);
      torch::Tensor l = cfg.distill ? SoftCrossEntropy(out, teacher) : torch::nn::functional::cross_entropy(out, y, xent);
      l.backward();
    };
    if (cfg.train_smallest) train_subnet(smallest, smallest_genes);
    for (int k = 0; k < cfg.num_random_subnets; ++k) {
      const Genes g = space.Sample(rng);
      space.DecodeInto(sub, g, &scratch);
      train_subnet(scratch, g);
    }
    m.SetActive(largest, largest_genes);
    return std::pair<double, int64_t>(loss_value, ok);
  };
  model.epoch_begin = [&](std::map<std::string, torch::Tensor>* momentum) {
    if (cfg.sort_channels) m.SortChannels(momentum);
  };
  std::vector<torch::Tensor> calib;
  EvalSet val;
  model.evaluate = [&]() {
    if (calib.empty()) {
      calib = CalibrationBatches(data.train, net.normalization(), cfg.calib_batches, cfg.calib_batch_size, cfg.seed);
      val = MakeEvalSet(data.val, net.normalization(), cfg.eval_batch_size);
    }
    const auto fwd = [&](const torch::Tensor& x) { return m.forward(x); };
    m.SetActive(smallest, smallest_genes);
    RecalibrateBn(m, calib);
    const double small = Accuracy(m, fwd, val);
    // The largest last, so that the checkpoint holds its statistics.
    m.SetActive(largest, largest_genes);
    RecalibrateBn(m, calib);
    const double large = Accuracy(m, fwd, val);
    return std::pair<double, double>(large, small);
  };
  model.meta = [&]() {
    nlohmann::json meta = net.meta();
    meta["schema_version"] = kSupernetCheckpointSchemaVersion;
    meta["kind"] = "supernet";
    meta["space"] = SearchSpaceToJson(space);
    meta["subspace"] = sub.Label();
    meta["normalization"] = NormalizationToJson(net.normalization());
    return meta;
  };
  fs::create_directories(out_dir);
  WriteJsonFile(cfg.ToJson(), (fs::path(out_dir) / "config.json").string());
  return RunLoop(model, cfg, data.train, net.normalization(), out_dir, options, "supernet.pt",
                 [&](const std::string& path) {
                   net.meta()["train"] = {{"config", cfg.ToJson()}};
                   net.Save(path);
                 });
}

FinetuneResult Finetune(const std::string& supernet_checkpoint, const Arch& arch, const std::string& arch_source,
                        TrainConfig cfg, const std::string& out_dir, const TrainOptions& options,
                        bool data_from_config) {
  Supernet net = Supernet::Load(supernet_checkpoint);
  try {
    net.SetActive(arch);
  } catch (const InvalidInput& e) {
    throw InvalidInput(arch_source + ": not a subnet of the supernet " + supernet_checkpoint + ": " + e.what());
  }
  if (!data_from_config) {
    if (!net.meta().contains("data")) throw InvalidInput(supernet_checkpoint + ": data: missing (no data options stored)");
    DataOptions d = DataOptions::FromJson(net.meta()["data"], supernet_checkpoint);
    d.limit_train = cfg.data.limit_train;
    d.limit_val = cfg.data.limit_val;
    cfg.data = d;
  }
  cfg.data.resolution = arch.resolution;
  cfg.data.channels = arch.in_channels;
  cfg.Validate("finetune");
  ConfigureRuntime(cfg.threads);
  DataOptions load = cfg.data;
  load.load_test = cfg.data.spec.rfind("idx:", 0) != 0 || std::count(cfg.data.spec.begin(), cfg.data.spec.end(), ',') == 3;
  const DataSplits data = LoadData(load);
  Subnet subnet = net.Extract(arch);
  StaticNetImpl& m = *subnet.impl().module;
  const Normalization norm = subnet.normalization();
  const std::vector<torch::Tensor> calib =
      CalibrationBatches(data.train, norm, cfg.calib_batches, cfg.calib_batch_size, cfg.seed);
  const EvalSet val = MakeEvalSet(data.val, norm, cfg.eval_batch_size);
  const auto fwd = [&](const torch::Tensor& x) { return m.forward(x); };
  FinetuneResult out;
  RecalibrateBn(m, calib);
  out.inherited_val_acc = Accuracy(m, fwd, val);
  spdlog::info("finetune {}: {} parameters; inherited weights give {:.2f}% validation top-1 after BN re-calibration",
               arch_source, subnet.num_parameters(), 100 * out.inherited_val_acc);

  const std::string ckpt = (fs::path(out_dir) / "checkpoint.pt").string();
  if (options.resume) {
    const nlohmann::json meta = ReadArchiveMeta(ckpt, "subnet");
    if (!meta.contains("arch") || ArchFromJson(meta["arch"], ckpt + ": arch") != arch) {
      throw InvalidInput(ckpt + ": arch: the checkpoint fine-tunes another architecture than " + arch_source);
    }
  }
  const auto xent = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(cfg.label_smoothing);
  Model model;
  model.module = &m;
  model.kind = "subnet";
  model.step = [&](const torch::Tensor& x, const torch::Tensor& y, Rng&) {
    const torch::Tensor logits = m.forward(x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, xent);
    loss.backward();
    return std::pair<double, int64_t>(loss.item<double>(), logits.argmax(1).eq(y).sum().item<int64_t>());
  };
  model.evaluate = [&]() {
    RecalibrateBn(m, calib);
    return std::pair<double, double>(Accuracy(m, fwd, val), -1.0);
  };
  model.meta = [&]() {
    nlohmann::json meta = subnet.meta();
    meta["schema_version"] = kSupernetCheckpointSchemaVersion;
    meta["kind"] = "subnet";
    meta["arch"] = ArchToJson(arch);
    meta["normalization"] = NormalizationToJson(norm);
    meta["data"] = cfg.data.ToJson();
    meta["supernet"] = supernet_checkpoint;
    return meta;
  };
  fs::create_directories(out_dir);
  WriteJsonFile(cfg.ToJson(), (fs::path(out_dir) / "config.json").string());
  out.train = RunLoop(model, cfg, data.train, norm, out_dir, options, "subnet.pt", [&](const std::string& path) {
    subnet.meta() = model.meta();
    for (const char* k : {"schema_version", "kind", "arch", "normalization"}) subnet.meta().erase(k);
    subnet.Save(path);
  });
  if (!out.train.finished) return out;
  out.val_acc = out.train.curve.back().val_acc;
  if (data.test.size() > 0) {
    out.test_acc = Accuracy(m, fwd, MakeEvalSet(data.test, norm, cfg.eval_batch_size));
  }
  const FloatModel fm = subnet.ToFloatModel();
  fm.Validate();
  out.float_model_path = (fs::path(out_dir) / "float_model.json").string();
  SaveFloatModel(fm, out.float_model_path);
  nlohmann::json res = {{"schema_version", 1},
                        {"kind", "finetune_result"},
                        {"arch", arch_source},
                        {"supernet", supernet_checkpoint},
                        {"epochs", cfg.epochs},
                        {"inherited_val_acc", out.inherited_val_acc},
                        {"val_acc", out.val_acc},
                        {"test_acc", out.test_acc},
                        {"seconds", out.train.seconds},
                        {"subnet", out.train.final_path},
                        {"float_model", out.float_model_path}};
  WriteJsonFile(res, (fs::path(out_dir) / "result.json").string());
  return out;
}

}  // namespace mcunet::nn
