// Internal helpers for reading JSON with errors that name the file and field.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcunet/error.h"

namespace mcunet {

// Parses a JSON file. Throws FileNotFound, or InvalidInput with the parser's
// byte position for malformed JSON.
nlohmann::json ReadJsonFile(const std::string& path);
nlohmann::json ParseJson(const std::string& text, const std::string& source);
// Writes atomically (temp file + rename), pretty-printed.
void WriteJsonFile(const nlohmann::json& j, const std::string& path);
// Writes any text atomically.
void WriteTextFile(const std::string& text, const std::string& path);

std::string JsonTypeName(const nlohmann::json& j);

// Edit distance (optimal string alignment: insertions, deletions,
// substitutions and transpositions of adjacent characters cost 1).
size_t EditDistance(std::string_view a, std::string_view b);
// The candidate closest to `word` by EditDistance if it is close enough to be
// a likely typo (distance <= max(1, |word| / 3)); "" otherwise. Ties go to
// the earlier candidate.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);
// "; did you mean 'x'?" for the ClosestMatch, or "" when nothing is close.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);
// "a, b, c".
std::string JoinNames(const std::vector<std::string>& names);

// Reads typed fields; every error says "<source>: <prefix><key>: ...".
class JsonReader {
 public:
  explicit JsonReader(std::string source) : source_(std::move(source)) {}

  template <typename T>
  T Get(const nlohmann::json& obj, const std::string& key, const std::string& prefix = "") const {
    if (!obj.is_object()) Fail(prefix, key, "expected an object holding this field");
    auto it = obj.find(key);
    if (it == obj.end()) Fail(prefix, key, "missing required field");
    return Convert<T>(*it, prefix, key);
  }

  template <typename T>
  T Get(const nlohmann::json& obj, const std::string& key, const std::string& prefix, T fallback) const {
    if (!obj.is_object()) Fail(prefix, key, "expected an object holding this field");
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    return Convert<T>(*it, prefix, key);
  }

  const nlohmann::json& Object(const nlohmann::json& obj, const std::string& key,
                               const std::string& prefix = "") const;
  const nlohmann::json& Array(const nlohmann::json& obj, const std::string& key,
                              const std::string& prefix = "") const;

  // Throws InvalidInput for the first key of `obj` not in `allowed`:
  // "<source>: <prefix><key>: unknown <what>; did you mean '<closest>'? (known: ...)".
  void CheckKeys(const nlohmann::json& obj, const std::vector<std::string>& allowed, const std::string& prefix = "",
                 const std::string& what = "field") const;

  [[noreturn]] void Fail(const std::string& prefix, const std::string& key, const std::string& what) const {
    throw InvalidInput(source_ + ": " + prefix + key + ": " + what);
  }
  const std::string& source() const { return source_; }

 private:
  template <typename T>
  T Convert(const nlohmann::json& v, const std::string& prefix, const std::string& key) const {
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) Fail(prefix, key, "expected a boolean, got " + JsonTypeName(v));
      return v.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      if (v.is_number_float()) {
        const double d = v.get<double>();
        if (d != static_cast<double>(static_cast<long long>(d))) {
          Fail(prefix, key, "expected an integer, got " + v.dump());
        }
        return static_cast<T>(d);
      }
      if (!v.is_number_integer()) Fail(prefix, key, "expected an integer, got " + JsonTypeName(v));
      return v.get<T>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) Fail(prefix, key, "expected a number, got " + JsonTypeName(v));
      return v.get<T>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) Fail(prefix, key, "expected a string, got " + JsonTypeName(v));
      return v.get<std::string>();
    } else {
      try {
        return v.get<T>();
      } catch (const nlohmann::json::exception& e) {
        Fail(prefix, key, e.what());
      }
    }
  }

  std::string source_;
};

}  // namespace mcunet
