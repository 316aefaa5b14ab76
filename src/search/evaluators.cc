#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/json_util.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/evaluator.h"

namespace mcunet {

using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Fnv {
  uint64_t h = 0xcbf29ce484222325ULL;
  void Add(int64_t v) {
    const uint64_t u = static_cast<uint64_t>(v);
    for (int b = 0; b < 8; ++b) {
      h ^= (u >> (8 * b)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  }
};

// A number in [0, 1) from a hash and a salt (for fault injection).
double HashFraction(uint64_t h, uint64_t salt) {
  uint64_t x = h ^ (salt * 0x9e3779b97f4a7c15ULL);
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 29;
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

uint64_t ParseHashHex(const std::string& s, const std::string& where) {
  std::string t = s;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) t = t.substr(2);
  if (t.empty() || t.size() > 16) throw InvalidInput(where + ": expected a 64-bit hex hash, got \"" + s + "\"");
  uint64_t v = 0;
  for (char c : t) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      throw InvalidInput(where + ": expected a 64-bit hex hash, got \"" + s + "\"");
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

uint64_t ArchHash(const Arch& a) {
  Fnv f;
  f.Add(a.resolution);
  f.Add(a.in_channels);
  f.Add(a.num_classes);
  f.Add(a.first_conv.out_channels);
  f.Add(a.first_conv.kernel);
  f.Add(a.first_conv.stride);
  f.Add(static_cast<int64_t>(a.blocks.size()));
  for (const MBBlock& b : a.blocks) {
    f.Add(b.in_channels);
    f.Add(b.out_channels);
    f.Add(b.mid_channels);
    f.Add(b.kernel);
    f.Add(b.stride);
    f.Add(b.expand_ratio);
    f.Add(b.residual ? 1 : 0);
  }
  f.Add(a.feature_mix_channels);
  return f.h;
}

std::string ArchHashHex(const Arch& a) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(ArchHash(a)));
  return buf;
}

// ---- MACs -----------------------------------------------------------------------

std::vector<double> MacsEvaluator::Evaluate(const std::vector<Arch>& archs) {
  std::vector<double> out;
  out.reserve(archs.size());
  for (const Arch& a : archs) out.push_back(static_cast<double>(CountArch(a).macs) / 1e6);
  return out;
}

// ---- Table ------------------------------------------------------------------------

TableEvaluator TableEvaluator::Load(const std::string& path) { return FromJson(ReadJsonFile(path), path); }

TableEvaluator TableEvaluator::FromJson(const json& j, const std::string& source) {
  JsonReader r(source);
  if (!j.is_object()) throw InvalidInput(source + ": expected a JSON object (an accuracy table)");
  const int version = r.Get<int>(j, "schema_version");
  if (version != kAccuracyTableSchemaVersion) {
    r.Fail("", "schema_version",
           "unsupported version " + std::to_string(version) + " (expected " +
               std::to_string(kAccuracyTableSchemaVersion) + ")");
  }
  const std::string kind = r.Get<std::string>(j, "kind");
  if (kind != "accuracy_table") r.Fail("", "kind", "expected \"accuracy_table\", got \"" + kind + "\"");
  TableEvaluator t;
  t.source_ = source;
  const auto check = [&](double v, const std::string& prefix, const std::string& key) {
    if (!std::isfinite(v)) r.Fail(prefix, key, "must be a finite number");
  };
  if (j.contains("entries")) {
    const json& e = r.Object(j, "entries");
    for (auto it = e.begin(); it != e.end(); ++it) {
      const double v = r.Get<double>(e, it.key(), "entries.");
      check(v, "entries.", it.key());
      t.table_[ParseHashHex(it.key(), source + ": entries." + it.key())] = v;
    }
  }
  if (j.contains("archs")) {
    const json& a = r.Array(j, "archs");
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string prefix = "archs[" + std::to_string(i) + "].";
      const Arch arch = ArchFromJson(r.Object(a[i], "arch", prefix), source + ": " + prefix + "arch");
      const double v = r.Get<double>(a[i], "accuracy", prefix);
      check(v, prefix, "accuracy");
      t.table_[ArchHash(arch)] = v;
    }
  }
  if (t.table_.empty()) r.Fail("", "entries", "the table is empty (give \"entries\" and/or \"archs\")");
  return t;
}

std::vector<double> TableEvaluator::Evaluate(const std::vector<Arch>& archs) {
  std::vector<double> out;
  out.reserve(archs.size());
  for (const Arch& a : archs) {
    auto it = table_.find(ArchHash(a));
    if (it == table_.end()) {
      spdlog::warn("table {}: no entry for arch {} ({})", source_, ArchHashHex(a), a.name);
      out.push_back(kNaN);
    } else {
      out.push_back(it->second);
    }
  }
  return out;
}

// ---- Synthetic ----------------------------------------------------------------------

SyntheticEvaluator::SyntheticEvaluator(SearchSpace space, SubSpace sub, Genes target, SyntheticOptions options)
    : space_(std::move(space)), sub_(sub), target_(std::move(target)), options_(options) {
  space_.ValidateGenes(target_);
}

double SyntheticEvaluator::Score(const Genes& g) const {
  int points = 0, total = 0;
  int slot = 0;
  for (int s = 0; s < space_.num_stages(); ++s) {
    ++total;
    points += g.depths[s] == target_.depths[s];
    for (int j = 0; j < space_.stages[s].max_depth(); ++j, ++slot) {
      if (j >= target_.depths[s]) continue;
      total += 2;
      if (j < g.depths[s]) {
        points += g.kernels[slot] == target_.kernels[slot];
        points += g.expands[slot] == target_.expands[slot];
      }
    }
  }
  return static_cast<double>(points) / total;
}

std::vector<double> SyntheticEvaluator::Evaluate(const std::vector<Arch>& archs) {
  if (options_.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.delay_ms));
  std::vector<double> out;
  out.reserve(archs.size());
  for (const Arch& a : archs) {
    const uint64_t h = ArchHash(a);
    if (HashFraction(h, 2) < options_.throw_fraction) {
      throw Error("synthetic evaluator: injected failure for arch " + ArchHashHex(a));
    }
    if (HashFraction(h, 1) < options_.nan_fraction) {
      out.push_back(kNaN);
      continue;
    }
    out.push_back(Score(space_.Encode(sub_, a)));
  }
  return out;
}

// ---- From JSON ------------------------------------------------------------------------

json ResolveEvaluatorSpec(const json& spec, const std::string& base_dir) {
  namespace fs = std::filesystem;
  json s = spec;
  if (s.is_object() && s.contains("path") && s["path"].is_string()) {
    const fs::path p(s["path"].get<std::string>());
    if (p.is_relative() && !base_dir.empty()) s["path"] = fs::absolute(fs::path(base_dir) / p).lexically_normal().string();
  }
  return s;
}

std::unique_ptr<Evaluator> MakeEvaluator(const json& spec, const std::string& source, const std::string& base_dir,
                                         const SearchSpace& space, const SubSpace& sub) {
  JsonReader r(source);
  const std::string prefix = "evaluator.";
  if (!spec.is_object()) {
    throw InvalidInput(source + ": evaluator: expected an object such as {\"kind\": \"macs\"}, got " + spec.dump());
  }
  const std::string kind = r.Get<std::string>(spec, "kind", prefix);
  const auto only = [&](std::initializer_list<const char*> keys) {
    std::vector<std::string> allowed = {"kind"};
    allowed.insert(allowed.end(), keys.begin(), keys.end());
    r.CheckKeys(spec, allowed, prefix, "field for evaluator kind \"" + kind + "\"");
  };
  if (kind == "macs") {
    only({});
    return std::make_unique<MacsEvaluator>();
  }
  if (kind == "table") {
    only({"path"});
    const json resolved = ResolveEvaluatorSpec(spec, base_dir);
    return std::make_unique<TableEvaluator>(TableEvaluator::Load(r.Get<std::string>(resolved, "path", prefix)));
  }
  if (kind == "synthetic") {
    only({"target", "target_seed", "nan_fraction", "throw_fraction", "delay_ms"});
    Genes target;
    if (spec.contains("target") == spec.contains("target_seed")) {
      r.Fail(prefix, "target", "give exactly one of \"target\" (genes) or \"target_seed\"");
    }
    if (spec.contains("target")) {
      target = GenesFromJson(spec["target"], source + ": evaluator.target");
    } else {
      Rng rng(r.Get<uint64_t>(spec, "target_seed", prefix));
      target = space.Sample(rng);
    }
    try {
      space.ValidateGenes(target);
    } catch (const InvalidInput& e) {
      r.Fail(prefix, "target", e.what());
    }
    SyntheticOptions o;
    o.nan_fraction = r.Get<double>(spec, "nan_fraction", prefix, 0.0);
    o.throw_fraction = r.Get<double>(spec, "throw_fraction", prefix, 0.0);
    o.delay_ms = r.Get<int>(spec, "delay_ms", prefix, 0);
    if (!(o.nan_fraction >= 0 && o.nan_fraction <= 1)) r.Fail(prefix, "nan_fraction", "must be in [0, 1]");
    if (!(o.throw_fraction >= 0 && o.throw_fraction <= 1)) r.Fail(prefix, "throw_fraction", "must be in [0, 1]");
    if (o.delay_ms < 0) r.Fail(prefix, "delay_ms", "must be >= 0");
    return std::make_unique<SyntheticEvaluator>(space, sub, target, o);
  }
  r.Fail(prefix, "kind",
         "unknown evaluator \"" + kind + "\"" + DidYouMean(kind, {"macs", "table", "synthetic"}) +
             " (expected \"macs\", \"table\" or \"synthetic\")");
}

}  // namespace mcunet
