// Target microcontroller boards. kB in this project means KiB (1024 bytes),
// as in the MCUNet tables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mcunet {

enum class CoreType { kCortexM4, kCortexM7 };

struct Board {
  std::string name;  // e.g. "stm32f746"
  CoreType core = CoreType::kCortexM7;
  int64_t sram_bytes = 0;
  int64_t flash_bytes = 0;
  int clock_mhz = 0;
  std::string description;
};

std::string CoreName(CoreType c);

// The four boards of the MCUNet paper: stm32f412, stm32f746 (default),
// stm32f765, stm32h743.
const std::vector<Board>& BuiltinBoards();
inline constexpr const char* kDefaultBoard = "stm32f746";

// Case-insensitive; accepts "STM32F746", "f746", or a path to a board JSON.
// Throws InvalidInput listing the known boards.
Board FindBoard(const std::string& name_or_path);
Board BoardFromJson(const nlohmann::json& j, const std::string& source);
nlohmann::json BoardToJson(const Board& b);

}  // namespace mcunet
