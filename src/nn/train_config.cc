// TrainConfig <-> JSON (torch-free).
#include "mcunet/nn/train_config.h"

#include <algorithm>
#include <set>

#include "core/json_util.h"
#include "mcunet/error.h"

namespace mcunet::nn {

void TrainConfig::Validate(const std::string& source) const {
  const auto fail = [&](const std::string& field, const std::string& what) {
    throw InvalidInput(source + ": " + field + ": " + what);
  };
  if (epochs < 1) fail("epochs", "must be >= 1");
  if (batch_size < 1) fail("batch_size", "must be >= 1");
  if (!(lr > 0)) fail("lr", "must be > 0");
  if (momentum < 0 || momentum >= 1) fail("momentum", "must be in [0, 1)");
  if (warmup_epochs < 0 || warmup_epochs >= epochs) fail("warmup_epochs", "must be in [0, epochs)");
  if (weight_decay < 0) fail("weight_decay", "must be >= 0");
  if (label_smoothing < 0 || label_smoothing >= 1) fail("label_smoothing", "must be in [0, 1)");
  if (num_random_subnets < 0) fail("num_random_subnets", "must be >= 0");
  if (!(bn_momentum > 0) || bn_momentum > 1) fail("bn_momentum", "must be in (0, 1]");
  if (calib_batches < 1) fail("calib_batches", "must be >= 1");
  if (calib_batch_size < 1) fail("calib_batch_size", "must be >= 1");
  if (eval_batch_size < 1) fail("eval_batch_size", "must be >= 1");
  if (threads < 1) fail("threads", "must be >= 1");
  if (augment.crop_padding < 0) fail("augment.crop_padding", "must be >= 0");
  if (data.val_count < 0) fail("data.val_count", "must be >= 0");
  if (data.resolution < 1) fail("data.resolution", "must be >= 1");
}

nlohmann::json TrainConfig::ToJson() const {
  return {{"schema_version", kTrainConfigSchemaVersion},
          {"kind", "train_config"},
          {"epochs", epochs},
          {"batch_size", batch_size},
          {"lr", lr},
          {"momentum", momentum},
          {"nesterov", nesterov},
          {"warmup_epochs", warmup_epochs},
          {"weight_decay", weight_decay},
          {"label_smoothing", label_smoothing},
          {"num_random_subnets", num_random_subnets},
          {"train_smallest", train_smallest},
          {"distill", distill},
          {"sort_channels", sort_channels},
          {"bn_momentum", bn_momentum},
          {"calib_batches", calib_batches},
          {"calib_batch_size", calib_batch_size},
          {"eval_batch_size", eval_batch_size},
          {"eval_each_epoch", eval_each_epoch},
          {"seed", seed},
          {"threads", threads},
          {"augment", {{"crop_padding", augment.crop_padding}, {"flip", augment.flip}}},
          {"data", data.ToJson()}};
}

TrainConfig TrainConfig::FromJson(const nlohmann::json& j, const std::string& source) {
  JsonReader r(source);
  if (!j.is_object()) throw InvalidInput(source + ": expected a JSON object (train_config)");
  static const std::set<std::string> kKeys = {
      "schema_version", "kind",          "epochs",          "batch_size",         "lr",
      "momentum",       "nesterov",      "warmup_epochs",   "weight_decay",       "label_smoothing",
      "num_random_subnets", "train_smallest", "distill",   "sort_channels",   "bn_momentum",        "calib_batches",
      "calib_batch_size", "eval_batch_size", "eval_each_epoch", "seed",           "threads",
      "augment",        "data"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!kKeys.count(it.key())) r.Fail("", it.key(), "unknown field");
  }
  const int version = r.Get<int>(j, "schema_version", "", kTrainConfigSchemaVersion);
  if (version != kTrainConfigSchemaVersion) {
    r.Fail("", "schema_version", "expected " + std::to_string(kTrainConfigSchemaVersion) + ", got " + std::to_string(version));
  }
  const std::string kind = r.Get<std::string>(j, "kind", "", "train_config");
  if (kind != "train_config") r.Fail("", "kind", "expected \"train_config\", got \"" + kind + "\"");
  TrainConfig c;
  c.epochs = r.Get<int>(j, "epochs", "", c.epochs);
  c.batch_size = r.Get<int>(j, "batch_size", "", c.batch_size);
  c.lr = r.Get<double>(j, "lr", "", c.lr);
  c.momentum = r.Get<double>(j, "momentum", "", c.momentum);
  c.nesterov = r.Get<bool>(j, "nesterov", "", c.nesterov);
  c.warmup_epochs = r.Get<int>(j, "warmup_epochs", "", c.warmup_epochs);
  c.weight_decay = r.Get<double>(j, "weight_decay", "", c.weight_decay);
  c.label_smoothing = r.Get<double>(j, "label_smoothing", "", c.label_smoothing);
  c.num_random_subnets = r.Get<int>(j, "num_random_subnets", "", c.num_random_subnets);
  c.train_smallest = r.Get<bool>(j, "train_smallest", "", c.train_smallest);
  c.distill = r.Get<bool>(j, "distill", "", c.distill);
  c.sort_channels = r.Get<bool>(j, "sort_channels", "", c.sort_channels);
  c.bn_momentum = r.Get<double>(j, "bn_momentum", "", c.bn_momentum);
  c.calib_batches = r.Get<int>(j, "calib_batches", "", c.calib_batches);
  c.calib_batch_size = r.Get<int>(j, "calib_batch_size", "", c.calib_batch_size);
  c.eval_batch_size = r.Get<int>(j, "eval_batch_size", "", c.eval_batch_size);
  c.eval_each_epoch = r.Get<bool>(j, "eval_each_epoch", "", c.eval_each_epoch);
  c.seed = r.Get<uint64_t>(j, "seed", "", c.seed);
  c.threads = r.Get<int>(j, "threads", "", c.threads);
  if (j.contains("augment")) {
    const nlohmann::json& a = r.Object(j, "augment");
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (it.key() != "crop_padding" && it.key() != "flip") r.Fail("augment.", it.key(), "unknown field");
    }
    c.augment.crop_padding = r.Get<int>(a, "crop_padding", "augment.", c.augment.crop_padding);
    c.augment.flip = r.Get<bool>(a, "flip", "augment.", c.augment.flip);
  }
  if (j.contains("data")) c.data = DataOptions::FromJson(r.Object(j, "data"), source);
  c.Validate(source);
  return c;
}

TrainConfig TrainConfig::Load(const std::string& path) { return FromJson(ReadJsonFile(path), path); }

}  // namespace mcunet::nn
