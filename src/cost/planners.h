// Internal: constructors of the built-in planners (see memory_plan.h).
#pragma once

#include <memory>

#include "mcunet/memory_plan.h"

namespace mcunet {

// TF-Lite Micro's GreedyMemoryPlanner, byte-exact (planner_tflm.cc).
std::unique_ptr<MemoryPlanner> MakeTflmPlanner();
// Layer by layer with CMSIS-NN's im2col scratch (planner_cmsis.cc).
std::unique_ptr<MemoryPlanner> MakeCmsisPlanner();
// MCUNet's TinyEngine schedule, improved (planner_tinyengine.cc).
std::unique_ptr<MemoryPlanner> MakeTinyEnginePlanner();

}  // namespace mcunet
