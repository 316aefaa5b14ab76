// Writes an int8 Graph as a .tflite flatbuffer (schema version 3, one
// subgraph, builtin ops only), loadable by TFLite, TF-Lite Micro, Arm NN and
// mcunet's own reader.
//
// Ops: CONV_2D (also the 1x1 convs), DEPTHWISE_CONV_2D, ADD, MEAN (axes
// [1, 2], keep_dims false, as global average pooling), AVERAGE_POOL_2D,
// FULLY_CONNECTED, SOFTMAX, RESHAPE, PAD, TRANSPOSE, QUANTIZE, DEQUANTIZE.
// A convolution whose padding is not TFLite's SAME padding for its shapes
// (PyTorch pads k/2 on every side; TFLite SAME pads the extra pixel at the
// bottom/right for a stride-2 conv on an even input) is written as PAD (with
// the input's zero point, TFLite int8 PAD semantics) followed by a VALID
// convolution, exactly as TFLite's converter does; mcunet's reader folds the
// pair back (FoldInt8Input). Op versions are the ones TFLite assigns to int8
// kernels (e.g. CONV_2D 3 for per-channel weights, FULLY_CONNECTED 4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mcunet/graph.h"

namespace mcunet {

struct TfliteWriteOptions {
  // Float32 input and output: a QUANTIZE op in front of the int8 input and a
  // DEQUANTIZE after the int8 output (as a TFLite converter's default
  // output). Off: int8 input and output.
  bool float_io = false;
  // Model.description.
  std::string description = "mcunet int8 model";
};

// Serialises `graph` (validated first). Throws InvalidInput naming the op or
// tensor that cannot be written (missing weights or quantisation, a padding
// TFLite cannot express), Unsupported for an op kind without a TFLite
// builtin here.
std::vector<uint8_t> WriteTflite(const Graph& graph, const TfliteWriteOptions& options = {});
// Same, to a file; throws FileNotFound if it cannot be written.
void WriteTfliteFile(const Graph& graph, const std::string& path, const TfliteWriteOptions& options = {});

}  // namespace mcunet
