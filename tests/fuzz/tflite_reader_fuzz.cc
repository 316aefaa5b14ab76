// libFuzzer target for the .tflite reader (and what runs on a graph it
// accepts: the int8 I/O fold, the tinyengine planner, the code generator).
// Any mcunet::Error is a clean rejection; anything else (a crash, a sanitizer
// report, another exception) is a bug. Built by scripts/fuzz-tflite.
#include <cstddef>
#include <cstdint>

#include "mcunet/codegen.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/graph.h"
#include "mcunet/tflite_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mcunet::Graph g;
  try {
    g = mcunet::ReadTflite(data, size, "<fuzz>");
  } catch (const mcunet::Error&) {
    return 0;
  }
  // Keep the expensive stages to small graphs (the fuzzer's inputs are).
  if (g.TotalMacs() > (int64_t{1} << 26) || g.tensors.size() > 4096) return 0;
  try {
    const mcunet::CostReport report = mcunet::EvaluateCost(g, "tinyengine");
    mcunet::GenerateCode(report);
  } catch (const mcunet::Error&) {
  }
  return 0;
}
