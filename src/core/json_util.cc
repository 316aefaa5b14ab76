#include "core/json_util.h"

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

}  // namespace mcunet
