// libtorch archives with a JSON header: atomic save, checked load.
#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "mcunet/error.h"
#include "nn/modules.h"

namespace mcunet::nn {

namespace fs = std::filesystem;

namespace {
constexpr const char* kMetaKey = "mcunet_meta";
constexpr const char* kExtraPrefix = "extra/";

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }
}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> NamedState(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : m.named_parameters(true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : m.named_buffers(true)) out.emplace_back(item.key(), item.value());
  return out;
}

void SaveArchive(const std::string& path, const torch::nn::Module& m, const nlohmann::json& meta,
                 const std::map<std::string, torch::Tensor>& extra) {
  torch::serialize::OutputArchive ar;
  for (const auto& [name, t] : NamedState(m)) ar.write(name, t.detach(), /*is_buffer=*/true);
  for (const auto& [name, t] : extra) ar.write(kExtraPrefix + name, t.detach(), /*is_buffer=*/true);
  ar.write(kMetaKey, c10::IValue(meta.dump()));
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    ar.save_to(tmp);
  } catch (const c10::Error& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error(path + ": cannot write checkpoint: " + FirstLine(e.what()));
  }
  fs::rename(tmp, target);
}

namespace {

void Open(const std::string& path, torch::serialize::InputArchive* ia) {
  if (!fs::is_regular_file(path)) throw FileNotFound(path + ": no such checkpoint file");
  try {
    ia->load_from(path);
  } catch (const c10::Error& e) {
    throw InvalidInput(path + ": not a libtorch checkpoint (" + FirstLine(e.what()) + ")");
  } catch (const std::exception& e) {
    throw InvalidInput(path + ": not a libtorch checkpoint (" + FirstLine(e.what()) + ")");
  }
}

}  // namespace

nlohmann::json ReadArchiveMeta(const std::string& path, const std::string& expected_kind) {
  torch::serialize::InputArchive ia;
  Open(path, &ia);
  c10::IValue v;
  bool ok = false;
  try {
    ok = ia.try_read(kMetaKey, v);
  } catch (const c10::Error&) {
    ok = false;
  }
  if (!ok || !v.isString()) throw InvalidInput(path + ": not an mcunet checkpoint (no " + kMetaKey + " header)");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(v.toStringRef());
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(path + ": " + kMetaKey + ": " + e.what());
  }
  if (!meta.is_object() || meta.value("kind", "") != expected_kind) {
    throw InvalidInput(path + ": kind: expected a " + expected_kind + " checkpoint, got \"" +
                       (meta.is_object() ? meta.value("kind", "") : std::string()) + "\"");
  }
  if (meta.value("schema_version", 0) != kSupernetCheckpointSchemaVersion) {
    throw InvalidInput(path + ": schema_version: expected " + std::to_string(kSupernetCheckpointSchemaVersion));
  }
  return meta;
}

void LoadArchiveState(const std::string& path, torch::nn::Module& m, std::map<std::string, torch::Tensor>* extra,
                      const std::vector<std::string>& extra_names) {
  torch::serialize::InputArchive ia;
  Open(path, &ia);
  torch::NoGradGuard guard;
  const auto read = [&](const std::string& key) {
    torch::Tensor v;
    bool ok = false;
    try {
      ok = ia.try_read(key, v, /*is_buffer=*/true);
    } catch (const c10::Error&) {
      ok = false;
    }
    if (!ok || !v.defined()) throw InvalidInput(path + ": tensor " + key + " is missing");
    return v;
  };
  for (auto& [name, t] : NamedState(m)) {
    const torch::Tensor v = read(name);
    if (v.sizes() != t.sizes()) {
      throw InvalidInput(path + ": tensor " + name + " has shape " + c10::str(v.sizes()) + ", expected " +
                         c10::str(t.sizes()));
    }
    t.copy_(v);
  }
  if (extra != nullptr) {
    for (const std::string& name : extra_names) (*extra)[name] = read(kExtraPrefix + name).clone();
  }
}

}  // namespace mcunet::nn
