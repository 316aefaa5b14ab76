#include "core/json_util.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mcunet {

using nlohmann::json;

json ParseJson(const std::string& text, const std::string& source) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw InvalidInput(source + ": malformed JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

json ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileNotFound(path + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseJson(ss.str(), path);
}

void WriteTextFile(const std::string& text, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw FileNotFound(path + ": cannot write file");
    out << text;
    out.flush();
    if (!out) throw Error(path + ": write failed");
  }
  fs::rename(tmp, target);
}

void WriteJsonFile(const json& j, const std::string& path) { WriteTextFile(j.dump(2) + "\n", path); }

std::string JsonTypeName(const json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

const json& JsonReader::Object(const json& obj, const std::string& key, const std::string& prefix) const {
  if (!obj.is_object()) Fail(prefix, key, "expected an object holding this field");
  auto it = obj.find(key);
  if (it == obj.end()) Fail(prefix, key, "missing required field");
  if (!it->is_object()) Fail(prefix, key, "expected an object, got " + JsonTypeName(*it));
  return *it;
}

const json& JsonReader::Array(const json& obj, const std::string& key, const std::string& prefix) const {
  if (!obj.is_object()) Fail(prefix, key, "expected an object holding this field");
  auto it = obj.find(key);
  if (it == obj.end()) Fail(prefix, key, "missing required field");
  if (!it->is_array()) Fail(prefix, key, "expected an array, got " + JsonTypeName(*it));
  return *it;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  // d[i][j]: distance between a[0, i) and b[0, j); three rows suffice.
  const size_t n = b.size();
  std::vector<size_t> prev2(n + 1), prev(n + 1), cur(n + 1);
  for (size_t j = 0; j <= n; ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= n; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[n];
}

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string m = ClosestMatch(word, candidates);
  return m.empty() ? std::string() : "; did you mean '" + m + "'?";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void JsonReader::CheckKeys(const json& obj, const std::vector<std::string>& allowed, const std::string& prefix,
                           const std::string& what) const {
  if (!obj.is_object()) return;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
    Fail(prefix, it.key(), "unknown " + what + DidYouMean(it.key(), allowed) + " (known: " + JoinNames(allowed) + ")");
  }
}

}  // namespace mcunet
