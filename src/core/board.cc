#include "mcunet/board.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/json_util.h"
#include "mcunet/error.h"

namespace mcunet {

std::string CoreName(CoreType c) { return c == CoreType::kCortexM4 ? "cortex-m4" : "cortex-m7"; }

const std::vector<Board>& BuiltinBoards() {
  // The MCUNet paper's targets (Sec. 4); kB = KiB.
  static const std::vector<Board> boards = {
      {"stm32f412", CoreType::kCortexM4, 256 * 1024, 1024 * 1024, 100, "STM32F412, Cortex-M4F, 256 kB SRAM, 1 MB Flash"},
      {"stm32f746", CoreType::kCortexM7, 320 * 1024, 1024 * 1024, 216, "STM32F746, Cortex-M7, 320 kB SRAM, 1 MB Flash (default)"},
      {"stm32f765", CoreType::kCortexM7, 512 * 1024, 1024 * 1024, 216, "STM32F765, Cortex-M7, 512 kB SRAM, 1 MB Flash"},
      {"stm32h743", CoreType::kCortexM7, 512 * 1024, 2048 * 1024, 480, "STM32H743, Cortex-M7, 512 kB SRAM, 2 MB Flash"},
  };
  return boards;
}

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string KnownBoards() {
  std::string s;
  for (const Board& b : BuiltinBoards()) s += (s.empty() ? "" : ", ") + b.name;
  return s;
}

}  // namespace

Board BoardFromJson(const nlohmann::json& j, const std::string& source) {
  JsonReader r(source);
  r.CheckKeys(j, {"name", "core", "sram_kb", "flash_kb", "clock_mhz", "description"});
  Board b;
  b.name = r.Get<std::string>(j, "name");
  const std::string core = Lower(r.Get<std::string>(j, "core"));
  if (core == "cortex-m4" || core == "m4") {
    b.core = CoreType::kCortexM4;
  } else if (core == "cortex-m7" || core == "m7") {
    b.core = CoreType::kCortexM7;
  } else {
    r.Fail("", "core", "expected \"cortex-m4\" or \"cortex-m7\", got \"" + core + "\"");
  }
  b.sram_bytes = r.Get<int64_t>(j, "sram_kb") * 1024;
  b.flash_bytes = r.Get<int64_t>(j, "flash_kb") * 1024;
  b.clock_mhz = r.Get<int>(j, "clock_mhz");
  b.description = r.Get<std::string>(j, "description", "", std::string());
  if (b.sram_bytes <= 0) r.Fail("", "sram_kb", "must be > 0");
  if (b.flash_bytes <= 0) r.Fail("", "flash_kb", "must be > 0");
  if (b.clock_mhz <= 0) r.Fail("", "clock_mhz", "must be > 0");
  return b;
}

nlohmann::json BoardToJson(const Board& b) {
  return {{"name", b.name},
          {"core", CoreName(b.core)},
          {"sram_kb", b.sram_bytes / 1024},
          {"flash_kb", b.flash_bytes / 1024},
          {"clock_mhz", b.clock_mhz},
          {"description", b.description}};
}

Board FindBoard(const std::string& name_or_path) {
  const std::string key = Lower(name_or_path);
  for (const Board& b : BuiltinBoards()) {
    if (key == b.name || "stm32" + key == b.name) return b;
  }
  if (key.size() > 5 && key.substr(key.size() - 5) == ".json") {
    return BoardFromJson(ReadJsonFile(name_or_path), name_or_path);
  }
  // A typo of a board's name, with or without the "stm32" prefix.
  std::vector<std::string> names, short_names;
  for (const Board& b : BuiltinBoards()) {
    names.push_back(b.name);
    short_names.push_back(b.name.substr(5));
  }
  std::string guess = ClosestMatch(key, names);
  if (guess.empty() && key.rfind("stm32", 0) != 0) {
    const std::string s = ClosestMatch(key, short_names);
    if (!s.empty()) guess = "stm32" + s;
  }
  throw InvalidInput("unknown board '" + name_or_path + "'" +
                     (guess.empty() ? std::string() : "; did you mean '" + guess + "'?") + " (expected one of " +
                     KnownBoards() + " or a board JSON file)");
}

}  // namespace mcunet
