#include "mcunet/search_space.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "mcunet/error.h"

namespace mcunet {

using nlohmann::json;

// ---- Rng -----------------------------------------------------------------------

namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

std::string Hex64(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

void Rng::Seed(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& s : s_) s = SplitMix64(x);
}

Rng Rng::Stream(uint64_t seed, uint64_t stream) {
  // Hash the stream index, then combine with the seed's own hash: distinct
  // (seed, stream) pairs give unrelated splitmix64 starting points.
  uint64_t a = seed;
  uint64_t b = stream ^ 0x5851f42d4c957f2dULL;
  const uint64_t mixed = SplitMix64(a) ^ Rotl(SplitMix64(b), 17);
  return Rng(mixed);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Below(uint64_t n) {
  if (n <= 1) return 0;
  // Reject the lowest (2^64 mod n) values so that r % n is exactly uniform.
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    const uint64_t r = Next();
    if (r >= threshold) return r % n;
  }
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

bool Rng::Bernoulli(double p) {
  if (!(p > 0.0)) return false;  // also NaN
  if (p >= 1.0) return true;
  return Uniform() < p;
}

json Rng::ToJson() const {
  json state = json::array();
  for (uint64_t s : s_) state.push_back(Hex64(s));
  return {{"algorithm", "xoshiro256**"}, {"state", state}};
}

Rng Rng::FromJson(const json& j, const std::string& source) {
  JsonReader r(source);
  const std::string algo = r.Get<std::string>(j, "algorithm", "rng.");
  if (algo != "xoshiro256**") r.Fail("rng.", "algorithm", "expected \"xoshiro256**\", got \"" + algo + "\"");
  const json& state = r.Array(j, "state", "rng.");
  if (state.size() != 4) r.Fail("rng.", "state", "expected 4 hex strings, got " + std::to_string(state.size()));
  std::array<uint64_t, 4> s{};
  for (size_t i = 0; i < 4; ++i) {
    const std::string key = "state[" + std::to_string(i) + "]";
    if (!state[i].is_string()) r.Fail("rng.", key, "expected a hex string such as \"0x0123...\"");
    const std::string text = state[i].get<std::string>();
    size_t used = 0;
    try {
      s[i] = std::stoull(text, &used, 16);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() || text.empty()) r.Fail("rng.", key, "not a hex number: \"" + text + "\"");
  }
  if (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0) r.Fail("rng.", "state", "all-zero state is invalid");
  Rng rng;
  rng.set_state(s);
  return rng;
}

// ---- Widths --------------------------------------------------------------------

int MakeDivisible(double v, int divisor, int min_value) {
  if (min_value <= 0) min_value = divisor;
  // As once-for-all / TF-slim: max(min, int(v + d/2) // d * d), then add one
  // divisor if that went down by more than 10%.
  const long long rounded = static_cast<long long>(v + divisor / 2.0) / divisor * divisor;
  long long new_v = std::max<long long>(min_value, rounded);
  if (static_cast<double>(new_v) < 0.9 * v) new_v += divisor;
  return static_cast<int>(new_v);
}

int StageSpec::max_depth() const {
  return depths.empty() ? 0 : *std::max_element(depths.begin(), depths.end());
}

namespace {

std::string FormatW(double w) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", w);
  return buf;
}

std::string ChoiceList(const std::vector<int>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(v[i]);
  }
  return s + "}";
}

bool Contains(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

bool SameW(double a, double b) { return std::fabs(a - b) < 1e-9; }

}  // namespace

std::string SubSpace::Label() const { return "w" + FormatW(width_mult) + "-r" + std::to_string(resolution); }

int SearchSpace::Width(int base_width, double w) const { return MakeDivisible(base_width * w, channel_divisor); }

int SearchSpace::FirstBlockWidth(double w) const {
  return first_block_base_width > 0 ? Width(first_block_base_width, w) : 0;
}

int SearchSpace::FeatureMixWidth(double w) const {
  if (feature_mix_base_width <= 0) return 0;
  if (feature_mix_scales || w > 1.0) return Width(feature_mix_base_width, w);
  return feature_mix_base_width;
}

int SearchSpace::num_slots() const {
  int n = 0;
  for (const StageSpec& s : stages) n += s.max_depth();
  return n;
}

int SearchSpace::stage_first_slot(int stage) const {
  int n = 0;
  for (int i = 0; i < stage; ++i) n += stages.at(i).max_depth();
  return n;
}

std::vector<SubSpace> SearchSpace::SubSpaces() const {
  std::vector<SubSpace> out;
  out.reserve(width_multipliers.size() * resolutions.size());
  for (double w : width_multipliers) {
    for (int r : resolutions) out.push_back({w, r});
  }
  return out;
}

// ---- Validation ----------------------------------------------------------------

namespace {

// Every choice list: non-empty, positive, no duplicates.
void CheckChoices(const std::string& who, const std::string& field, const std::vector<int>& v, bool odd) {
  const auto fail = [&](const std::string& what) { throw InvalidInput(who + ": " + field + ": " + what); };
  if (v.empty()) fail("empty choice list");
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] <= 0) fail("choice " + std::to_string(v[i]) + " must be > 0");
    if (odd && v[i] % 2 == 0) fail("kernel size " + std::to_string(v[i]) + " must be odd");
    for (size_t k = 0; k < i; ++k) {
      if (v[k] == v[i]) fail("duplicate choice " + std::to_string(v[i]));
    }
  }
}

}  // namespace

void SearchSpace::Validate() const {
  const std::string who = (source.empty() ? std::string("search space '") + name + "'" : source);
  const auto fail = [&](const std::string& field, const std::string& what) {
    throw InvalidInput(who + ": " + field + ": " + what);
  };
  if (in_channels <= 0) fail("in_channels", "must be > 0, got " + std::to_string(in_channels));
  if (num_classes <= 0) fail("num_classes", "must be > 0, got " + std::to_string(num_classes));
  if (channel_divisor <= 0) fail("channel_divisor", "must be > 0, got " + std::to_string(channel_divisor));
  if (width_multipliers.empty()) fail("width_multipliers", "empty choice list");
  for (size_t i = 0; i < width_multipliers.size(); ++i) {
    const double w = width_multipliers[i];
    if (!(w > 0.0) || !std::isfinite(w)) {
      fail("width_multipliers[" + std::to_string(i) + "]", "must be > 0, got " + FormatW(w));
    }
    for (size_t k = 0; k < i; ++k) {
      if (SameW(width_multipliers[k], w)) fail("width_multipliers", "duplicate choice " + FormatW(w));
    }
  }
  if (resolutions.empty()) fail("resolutions", "empty choice list");
  if (first_conv_kernel <= 0 || first_conv_kernel % 2 == 0) {
    fail("first_conv.kernel", "must be an odd number >= 1, got " + std::to_string(first_conv_kernel));
  }
  if (first_conv_stride <= 0) fail("first_conv.stride", "must be >= 1, got " + std::to_string(first_conv_stride));
  if (first_conv_base_width <= 0) {
    fail("first_conv.base_width", "must be > 0, got " + std::to_string(first_conv_base_width));
  }
  if (first_block_base_width < 0) {
    fail("first_block.base_width", "must be >= 0 (0: no first block), got " + std::to_string(first_block_base_width));
  }
  if (first_block_base_width > 0) {
    if (first_block_kernel <= 0 || first_block_kernel % 2 == 0) {
      fail("first_block.kernel", "must be an odd number >= 1, got " + std::to_string(first_block_kernel));
    }
    if (first_block_expand <= 0) {
      fail("first_block.expand_ratio", "must be >= 1, got " + std::to_string(first_block_expand));
    }
  }
  if (feature_mix_base_width < 0) {
    fail("feature_mix.base_width", "must be >= 0 (0: none), got " + std::to_string(feature_mix_base_width));
  }
  if (stages.empty()) fail("stages", "empty: a space needs at least one stage");

  int64_t total_stride = first_conv_stride;
  for (size_t s = 0; s < stages.size(); ++s) {
    const StageSpec& st = stages[s];
    const std::string at = "stages[" + std::to_string(s) + "].";
    if (st.base_width <= 0) fail(at + "base_width", "must be > 0, got " + std::to_string(st.base_width));
    if (st.stride <= 0) fail(at + "stride", "must be >= 1, got " + std::to_string(st.stride));
    CheckChoices(who, at + "depths", st.depths, false);
    CheckChoices(who, at + "kernel_sizes", st.kernel_sizes, true);
    CheckChoices(who, at + "expand_ratios", st.expand_ratios, false);
    total_stride *= st.stride;
  }

  // Widths that round to 0 (possible only with a degenerate divisor or W).
  for (double w : width_multipliers) {
    const std::string at = " at W=" + FormatW(w);
    if (FirstConvWidth(w) <= 0) fail("first_conv.base_width", "rounds to 0" + at);
    if (first_block_base_width > 0 && FirstBlockWidth(w) <= 0) fail("first_block.base_width", "rounds to 0" + at);
    for (size_t s = 0; s < stages.size(); ++s) {
      if (StageWidth(static_cast<int>(s), w) <= 0) {
        fail("stages[" + std::to_string(s) + "].base_width", "rounds to 0" + at);
      }
    }
  }

  for (size_t i = 0; i < resolutions.size(); ++i) {
    const int r = resolutions[i];
    const std::string field = "resolutions[" + std::to_string(i) + "]";
    if (r <= 0) fail(field, "must be > 0, got " + std::to_string(r));
    if (r / total_stride < 1) {
      fail(field, std::to_string(r) + " collapses to 0 after the strides (total stride " +
                      std::to_string(total_stride) + "); use a resolution >= " + std::to_string(total_stride) +
                      " or fewer stride-2 stages");
    }
    for (size_t k = 0; k < i; ++k) {
      if (resolutions[k] == r) fail("resolutions", "duplicate choice " + std::to_string(r));
    }
  }
}

// ---- Genes ---------------------------------------------------------------------

std::string Genes::ToString() const {
  std::string s;
  const auto add = [&s](const char* tag, const std::vector<int>& v) {
    s += tag;
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += ',';
      s += std::to_string(v[i]);
    }
  };
  add("d", depths);
  add(" k", kernels);
  add(" e", expands);
  return s;
}

uint64_t Genes::Hash() const {
  uint64_t h = 0xcbf29ce484222325ULL;
  const auto add = [&h](int v) {
    uint32_t u = static_cast<uint32_t>(v);
    for (int b = 0; b < 4; ++b) {
      h ^= (u >> (8 * b)) & 0xff;
      h *= 0x100000001b3ULL;
    }
  };
  for (const auto* v : {&depths, &kernels, &expands}) {
    add(static_cast<int>(v->size()));
    for (int x : *v) add(x);
  }
  return h;
}

json GenesToJson(const Genes& g) { return {{"depths", g.depths}, {"kernels", g.kernels}, {"expands", g.expands}}; }

Genes GenesFromJson(const json& j, const std::string& source) {
  JsonReader r(source);
  Genes g;
  const auto read = [&](const char* key, std::vector<int>* out) {
    const json& a = r.Array(j, key, "genes.");
    out->clear();
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_number_integer()) {
        r.Fail("genes.", std::string(key) + "[" + std::to_string(i) + "]", "expected an integer, got " + a[i].dump());
      }
      out->push_back(a[i].get<int>());
    }
  };
  read("depths", &g.depths);
  read("kernels", &g.kernels);
  read("expands", &g.expands);
  return g;
}

void SearchSpace::ValidateGenes(const Genes& g) const {
  const auto fail = [&](const std::string& what) {
    throw InvalidInput("search space '" + name + "': genes: " + what);
  };
  const int slots = num_slots();
  if (static_cast<int>(g.depths.size()) != num_stages()) {
    fail("expected " + std::to_string(num_stages()) + " depths (one per stage), got " +
         std::to_string(g.depths.size()));
  }
  if (static_cast<int>(g.kernels.size()) != slots || static_cast<int>(g.expands.size()) != slots) {
    fail("expected " + std::to_string(slots) + " kernels and expands (one per block slot), got " +
         std::to_string(g.kernels.size()) + " and " + std::to_string(g.expands.size()));
  }
  int slot = 0;
  for (int s = 0; s < num_stages(); ++s) {
    const StageSpec& st = stages[s];
    const int d = g.depths[s];
    if (!Contains(st.depths, d)) {
      fail("stage " + std::to_string(s) + ": depth " + std::to_string(d) + " not in " + ChoiceList(st.depths));
    }
    const int max_depth = st.max_depth();
    for (int j = 0; j < max_depth; ++j, ++slot) {
      const int k = g.kernels[slot];
      const int e = g.expands[slot];
      const auto at = [&] { return "stage " + std::to_string(s) + " block " + std::to_string(j); };
      if (j < d) {
        if (!Contains(st.kernel_sizes, k)) {
          fail(at() + ": kernel " + std::to_string(k) + " not in " + ChoiceList(st.kernel_sizes));
        }
        if (!Contains(st.expand_ratios, e)) {
          fail(at() + ": expand_ratio " + std::to_string(e) + " not in " + ChoiceList(st.expand_ratios));
        }
      } else if (k != 0 || e != 0) {
        fail(at() + ": inactive slot (stage depth " + std::to_string(d) + ") must hold kernel 0 and expand 0, got " +
             std::to_string(k) + " and " + std::to_string(e));
      }
    }
  }
}

namespace {

void CheckSubSpace(const SearchSpace& sp, const SubSpace& sub) {
  bool w_ok = false;
  for (double w : sp.width_multipliers) w_ok = w_ok || SameW(w, sub.width_mult);
  if (!w_ok) {
    std::string list;
    for (double w : sp.width_multipliers) {
      if (!list.empty()) list += ", ";
      list += FormatW(w);
    }
    throw InvalidInput("search space '" + sp.name + "': width multiplier " + FormatW(sub.width_mult) + " not in {" +
                       list + "}");
  }
  if (!Contains(sp.resolutions, sub.resolution)) {
    throw InvalidInput("search space '" + sp.name + "': resolution " + std::to_string(sub.resolution) + " not in " +
                       ChoiceList(sp.resolutions));
  }
}

int MidChannels(int in, int expand, int divisor) {
  if (expand == 1) return in;
  return MakeDivisible(static_cast<double>(in) * expand, divisor);
}

}  // namespace

void SearchSpace::DecodeInto(const SubSpace& sub, const Genes& g, Arch* a) const {
  CheckSubSpace(*this, sub);
  ValidateGenes(g);
  const double w = sub.width_mult;
  // "<space>-w0.5-r160". Formatting W costs more than the rest of decoding,
  // so the last name is cached per thread (this runs in the sweep's loop).
  struct NameCache {
    std::string space;
    double w = -1.0;
    int r = -1;
    std::string name;
  };
  thread_local NameCache cache;
  if (cache.w != w || cache.r != sub.resolution || cache.space != name) {
    cache.space = name;
    cache.w = w;
    cache.r = sub.resolution;
    cache.name = name + "-" + sub.Label();
  }
  a->name.assign(cache.name);
  a->resolution = sub.resolution;
  a->in_channels = in_channels;
  a->num_classes = num_classes;
  a->first_conv.out_channels = FirstConvWidth(w);
  a->first_conv.kernel = first_conv_kernel;
  a->first_conv.stride = first_conv_stride;
  a->blocks.clear();
  int c = a->first_conv.out_channels;
  if (first_block_base_width > 0) {
    MBBlock b;
    b.in_channels = c;
    b.out_channels = FirstBlockWidth(w);
    b.expand_ratio = first_block_expand;
    b.mid_channels = MidChannels(c, first_block_expand, channel_divisor);
    b.kernel = first_block_kernel;
    b.stride = 1;
    b.residual = false;  // as the original: the first block has no shortcut
    a->blocks.push_back(b);
    c = b.out_channels;
  }
  int slot = 0;
  for (int s = 0; s < num_stages(); ++s) {
    const StageSpec& st = stages[s];
    const int out = StageWidth(s, w);
    const int max_depth = st.max_depth();
    for (int j = 0; j < max_depth; ++j, ++slot) {
      if (j >= g.depths[s]) continue;
      MBBlock b;
      b.in_channels = c;
      b.out_channels = out;
      b.kernel = g.kernels[slot];
      b.expand_ratio = g.expands[slot];
      b.mid_channels = MidChannels(c, b.expand_ratio, channel_divisor);
      b.stride = j == 0 ? st.stride : 1;
      b.residual = b.stride == 1 && b.in_channels == b.out_channels;
      a->blocks.push_back(b);
      c = out;
    }
  }
  a->feature_mix_channels = FeatureMixWidth(w);
}

Arch SearchSpace::Decode(const SubSpace& sub, const Genes& g) const {
  Arch a;
  DecodeInto(sub, g, &a);
  a.Validate();
  return a;
}

Genes SearchSpace::Encode(const SubSpace& sub, const Arch& a) const {
  CheckSubSpace(*this, sub);
  const double w = sub.width_mult;
  const std::string who = "search space '" + name + "' " + sub.Label() + ": arch '" + a.name + "': ";
  const auto fail = [&](const std::string& what) { throw InvalidInput(who + what); };
  const auto expect = [&](const std::string& field, int got, int want) {
    if (got != want) fail(field + " " + std::to_string(got) + ", expected " + std::to_string(want));
  };
  expect("resolution", a.resolution, sub.resolution);
  expect("in_channels", a.in_channels, in_channels);
  expect("num_classes", a.num_classes, num_classes);
  expect("first_conv.out_channels", a.first_conv.out_channels, FirstConvWidth(w));
  expect("first_conv.kernel", a.first_conv.kernel, first_conv_kernel);
  expect("first_conv.stride", a.first_conv.stride, first_conv_stride);

  size_t bi = 0;
  int c = FirstConvWidth(w);
  const auto check_block = [&](const MBBlock& b, const std::string& at, int out, int stride, bool residual) {
    expect(at + ": in_channels", b.in_channels, c);
    expect(at + ": out_channels", b.out_channels, out);
    expect(at + ": stride", b.stride, stride);
    expect(at + ": mid_channels", b.mid_channels, MidChannels(c, b.expand_ratio, channel_divisor));
    if (b.residual != residual) {
      fail(at + ": residual " + (b.residual ? "true" : "false") + ", expected " + (residual ? "true" : "false"));
    }
  };
  if (first_block_base_width > 0) {
    if (a.blocks.empty()) fail("no blocks, expected the first block and " + std::to_string(num_stages()) + " stages");
    const MBBlock& b = a.blocks[0];
    const std::string at = "block 0 (first block)";
    expect(at + ": kernel", b.kernel, first_block_kernel);
    expect(at + ": expand_ratio", b.expand_ratio, first_block_expand);
    check_block(b, at, FirstBlockWidth(w), 1, false);
    c = b.out_channels;
    bi = 1;
  }

  Genes g;
  g.depths.assign(num_stages(), 0);
  g.kernels.assign(num_slots(), 0);
  g.expands.assign(num_slots(), 0);
  int slot = 0;
  for (int s = 0; s < num_stages(); ++s) {
    const StageSpec& st = stages[s];
    const int out = StageWidth(s, w);
    if (bi >= a.blocks.size()) {
      fail("stage " + std::to_string(s) + " is missing: the arch ends after " + std::to_string(a.blocks.size()) +
           " blocks");
    }
    // The stage's blocks: its first block, then stride-1 blocks of the same
    // width. If the next stage could continue the run (stride 1, same width
    // at this W), stop at this stage's max depth.
    size_t n = 1;
    while (bi + n < a.blocks.size() && a.blocks[bi + n].stride == 1 && a.blocks[bi + n].out_channels == out &&
           a.blocks[bi + n].in_channels == out) {
      ++n;
    }
    const bool next_continues = s + 1 < num_stages() && stages[s + 1].stride == 1 && StageWidth(s + 1, w) == out;
    if (next_continues) {
      // The run holds the blocks of the following stages of this width too:
      // leave each of them at least its smallest depth. (Splits of the run
      // that decode to the same network are equivalent; this picks the one
      // that gives this stage the most blocks.)
      size_t reserve = 0;
      for (int t = s + 1; t < num_stages() && stages[t].stride == 1 && StageWidth(t, w) == out; ++t) {
        reserve += static_cast<size_t>(*std::min_element(stages[t].depths.begin(), stages[t].depths.end()));
      }
      n = std::min<size_t>(n > reserve ? n - reserve : 1, st.max_depth());
      n = std::max<size_t>(n, 1);
    }
    const int depth = static_cast<int>(n);
    for (int j = 0; j < depth; ++j) {
      const MBBlock& b = a.blocks[bi + j];
      const std::string at = "block " + std::to_string(bi + j) + " (stage " + std::to_string(s) + " block " +
                             std::to_string(j) + ")";
      check_block(b, at, out, j == 0 ? st.stride : 1, j == 0 ? (st.stride == 1 && c == out) : true);
      if (!Contains(st.kernel_sizes, b.kernel)) {
        fail(at + ": kernel " + std::to_string(b.kernel) + " not in " + ChoiceList(st.kernel_sizes));
      }
      if (!Contains(st.expand_ratios, b.expand_ratio)) {
        fail(at + ": expand_ratio " + std::to_string(b.expand_ratio) + " not in " + ChoiceList(st.expand_ratios));
      }
      if (j < st.max_depth()) {
        g.kernels[slot + j] = b.kernel;
        g.expands[slot + j] = b.expand_ratio;
      }
      c = out;
    }
    if (!Contains(st.depths, depth)) {
      fail("stage " + std::to_string(s) + ": depth " + std::to_string(depth) + " not in " + ChoiceList(st.depths));
    }
    g.depths[s] = depth;
    bi += n;
    slot += st.max_depth();
  }
  if (bi != a.blocks.size()) {
    fail(std::to_string(a.blocks.size() - bi) + " block(s) after the last stage (block " + std::to_string(bi) +
         " on); the space has " + std::to_string(num_stages()) + " stages");
  }
  expect("feature_mix_channels", a.feature_mix_channels, FeatureMixWidth(w));
  return g;
}

std::optional<SubSpace> SearchSpace::MatchSubSpace(const Arch& arch) const {
  if (!Contains(resolutions, arch.resolution)) return std::nullopt;
  for (double w : width_multipliers) {
    const SubSpace sub{w, arch.resolution};
    try {
      Encode(sub, arch);
      return sub;
    } catch (const InvalidInput&) {
    }
  }
  return std::nullopt;
}

// ---- Variation -----------------------------------------------------------------

void SearchSpace::SampleInto(Rng& rng, Genes* g) const {
  g->depths.resize(num_stages());
  g->kernels.resize(num_slots());
  g->expands.resize(num_slots());
  int slot = 0;
  for (int s = 0; s < num_stages(); ++s) {
    const StageSpec& st = stages[s];
    const int d = rng.Pick(st.depths);
    g->depths[s] = d;
    const int max_depth = st.max_depth();
    for (int j = 0; j < max_depth; ++j, ++slot) {
      if (j < d) {
        g->kernels[slot] = rng.Pick(st.kernel_sizes);
        g->expands[slot] = rng.Pick(st.expand_ratios);
      } else {
        g->kernels[slot] = 0;
        g->expands[slot] = 0;
      }
    }
  }
}

Genes SearchSpace::Sample(Rng& rng) const {
  Genes g;
  SampleInto(rng, &g);
  return g;
}

Genes SearchSpace::Mutate(const Genes& parent, double prob, Rng& rng) const {
  ValidateGenes(parent);
  Genes g = parent;
  int slot = 0;
  for (int s = 0; s < num_stages(); ++s) {
    const StageSpec& st = stages[s];
    const int old_depth = g.depths[s];
    if (rng.Bernoulli(prob)) g.depths[s] = rng.Pick(st.depths);
    const int d = g.depths[s];
    const int max_depth = st.max_depth();
    for (int j = 0; j < max_depth; ++j, ++slot) {
      if (j >= d) {
        g.kernels[slot] = 0;
        g.expands[slot] = 0;
      } else if (j >= old_depth) {  // newly active: sample fresh
        g.kernels[slot] = rng.Pick(st.kernel_sizes);
        g.expands[slot] = rng.Pick(st.expand_ratios);
      } else {
        if (rng.Bernoulli(prob)) g.kernels[slot] = rng.Pick(st.kernel_sizes);
        if (rng.Bernoulli(prob)) g.expands[slot] = rng.Pick(st.expand_ratios);
      }
    }
  }
  return g;
}

Genes SearchSpace::Crossover(const Genes& a, const Genes& b, Rng& rng) const {
  ValidateGenes(a);
  ValidateGenes(b);
  Genes g;
  g.depths.resize(num_stages());
  g.kernels.assign(num_slots(), 0);
  g.expands.assign(num_slots(), 0);
  int slot = 0;
  for (int s = 0; s < num_stages(); ++s) {
    const StageSpec& st = stages[s];
    const int d = rng.Below(2) == 0 ? a.depths[s] : b.depths[s];
    g.depths[s] = d;
    const int max_depth = st.max_depth();
    for (int j = 0; j < max_depth; ++j, ++slot) {
      if (j >= d) continue;
      const bool a_active = j < a.depths[s];
      const bool b_active = j < b.depths[s];
      if (a_active && b_active) {
        g.kernels[slot] = rng.Below(2) == 0 ? a.kernels[slot] : b.kernels[slot];
        g.expands[slot] = rng.Below(2) == 0 ? a.expands[slot] : b.expands[slot];
      } else {
        const Genes& from = a_active ? a : b;
        g.kernels[slot] = from.kernels[slot];
        g.expands[slot] = from.expands[slot];
      }
    }
  }
  return g;
}

// ---- JSON ----------------------------------------------------------------------

namespace {

std::vector<int> ReadIntList(const JsonReader& r, const json& obj, const std::string& key, const std::string& prefix) {
  const json& a = r.Array(obj, key, prefix);
  std::vector<int> out;
  for (size_t i = 0; i < a.size(); ++i) {
    const json& v = a[i];
    const bool integral = v.is_number_integer() ||
                          (v.is_number_float() && v.get<double>() == std::floor(v.get<double>()));
    if (!integral) r.Fail(prefix, key + "[" + std::to_string(i) + "]", "expected an integer, got " + v.dump());
    out.push_back(static_cast<int>(v.get<double>()));
  }
  if (out.empty()) r.Fail(prefix, key, "empty choice list");
  return out;
}

std::vector<int> ReadIntListOr(const JsonReader& r, const json& obj, const std::string& key,
                               const std::string& prefix, const std::vector<int>& fallback) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  return ReadIntList(r, obj, key, prefix);
}

}  // namespace

SearchSpace SearchSpaceFromJson(const json& j, const std::string& source) {
  JsonReader r(source);
  if (!j.is_object()) throw InvalidInput(source + ": expected a JSON object (a search space), got " + JsonTypeName(j));
  const int version = r.Get<int>(j, "schema_version");
  if (version != kSearchSpaceSchemaVersion) {
    r.Fail("", "schema_version",
           "expected " + std::to_string(kSearchSpaceSchemaVersion) + ", got " + std::to_string(version));
  }
  const std::string kind = r.Get<std::string>(j, "kind", "", std::string("search_space"));
  if (kind != "search_space") r.Fail("", "kind", "expected \"search_space\", got \"" + kind + "\"");
  // Unknown fields are errors: usually typos, which would otherwise be
  // silently replaced by defaults.
  r.CheckKeys(j, {"schema_version", "kind", "name", "description", "in_channels", "num_classes", "channel_divisor",
                  "width_multipliers", "resolutions", "kernel_sizes", "expand_ratios", "depths", "first_conv",
                  "first_block", "feature_mix", "stages"});

  SearchSpace s;
  s.source = source;
  s.name = r.Get<std::string>(j, "name");
  s.description = r.Get<std::string>(j, "description", "", std::string());
  s.in_channels = r.Get<int>(j, "in_channels");
  s.num_classes = r.Get<int>(j, "num_classes");
  s.channel_divisor = r.Get<int>(j, "channel_divisor", "", 8);

  const json& wm = r.Array(j, "width_multipliers");
  for (size_t i = 0; i < wm.size(); ++i) {
    if (!wm[i].is_number()) {
      r.Fail("", "width_multipliers[" + std::to_string(i) + "]", "expected a number, got " + wm[i].dump());
    }
    s.width_multipliers.push_back(wm[i].get<double>());
  }
  if (s.width_multipliers.empty()) r.Fail("", "width_multipliers", "empty choice list");
  s.resolutions = ReadIntList(r, j, "resolutions", "");

  const std::vector<int> kernels = ReadIntListOr(r, j, "kernel_sizes", "", {});
  const std::vector<int> expands = ReadIntListOr(r, j, "expand_ratios", "", {});
  const std::vector<int> depths = ReadIntListOr(r, j, "depths", "", {});

  const json& fc = r.Object(j, "first_conv");
  r.CheckKeys(fc, {"base_width", "kernel", "stride"}, "first_conv.");
  s.first_conv_base_width = r.Get<int>(fc, "base_width", "first_conv.");
  s.first_conv_kernel = r.Get<int>(fc, "kernel", "first_conv.", 3);
  s.first_conv_stride = r.Get<int>(fc, "stride", "first_conv.", 2);

  if (j.contains("first_block") && !j["first_block"].is_null()) {
    const json& fb = r.Object(j, "first_block");
    r.CheckKeys(fb, {"base_width", "kernel", "expand_ratio"}, "first_block.");
    s.first_block_base_width = r.Get<int>(fb, "base_width", "first_block.");
    s.first_block_kernel = r.Get<int>(fb, "kernel", "first_block.", 3);
    s.first_block_expand = r.Get<int>(fb, "expand_ratio", "first_block.", 1);
  } else {
    s.first_block_base_width = 0;
  }

  const json& stages = r.Array(j, "stages");
  if (stages.empty()) r.Fail("", "stages", "empty: a space needs at least one stage");
  for (size_t i = 0; i < stages.size(); ++i) {
    const std::string at = "stages[" + std::to_string(i) + "].";
    const json& sj = stages[i];
    if (!sj.is_object()) r.Fail("", "stages[" + std::to_string(i) + "]", "expected an object, got " + JsonTypeName(sj));
    r.CheckKeys(sj, {"base_width", "stride", "depths", "kernel_sizes", "expand_ratios"}, at);
    StageSpec st;
    st.base_width = r.Get<int>(sj, "base_width", at);
    st.stride = r.Get<int>(sj, "stride", at);
    st.depths = ReadIntListOr(r, sj, "depths", at, depths);
    st.kernel_sizes = ReadIntListOr(r, sj, "kernel_sizes", at, kernels);
    st.expand_ratios = ReadIntListOr(r, sj, "expand_ratios", at, expands);
    if (st.depths.empty()) r.Fail(at, "depths", "no choices here and no top-level \"depths\"");
    if (st.kernel_sizes.empty()) r.Fail(at, "kernel_sizes", "no choices here and no top-level \"kernel_sizes\"");
    if (st.expand_ratios.empty()) r.Fail(at, "expand_ratios", "no choices here and no top-level \"expand_ratios\"");
    s.stages.push_back(std::move(st));
  }

  if (j.contains("feature_mix") && !j["feature_mix"].is_null()) {
    const json& fm = r.Object(j, "feature_mix");
    r.CheckKeys(fm, {"base_width", "scale_with_width"}, "feature_mix.");
    s.feature_mix_base_width = r.Get<int>(fm, "base_width", "feature_mix.");
    s.feature_mix_scales = r.Get<bool>(fm, "scale_with_width", "feature_mix.", false);
  }
  s.Validate();
  return s;
}

SearchSpace LoadSearchSpace(const std::string& path) { return SearchSpaceFromJson(ReadJsonFile(path), path); }

json SearchSpaceToJson(const SearchSpace& s) {
  json stages = json::array();
  for (const StageSpec& st : s.stages) {
    stages.push_back({{"base_width", st.base_width},
                      {"stride", st.stride},
                      {"depths", st.depths},
                      {"kernel_sizes", st.kernel_sizes},
                      {"expand_ratios", st.expand_ratios}});
  }
  json j = {{"schema_version", kSearchSpaceSchemaVersion},
            {"kind", "search_space"},
            {"name", s.name},
            {"description", s.description},
            {"in_channels", s.in_channels},
            {"num_classes", s.num_classes},
            {"channel_divisor", s.channel_divisor},
            {"width_multipliers", s.width_multipliers},
            {"resolutions", s.resolutions},
            {"first_conv",
             {{"base_width", s.first_conv_base_width}, {"kernel", s.first_conv_kernel}, {"stride", s.first_conv_stride}}},
            {"stages", stages},
            {"feature_mix", {{"base_width", s.feature_mix_base_width}, {"scale_with_width", s.feature_mix_scales}}}};
  if (s.first_block_base_width > 0) {
    j["first_block"] = {{"base_width", s.first_block_base_width},
                        {"kernel", s.first_block_kernel},
                        {"expand_ratio", s.first_block_expand}};
  } else {
    j["first_block"] = nullptr;
  }
  return j;
}

}  // namespace mcunet
