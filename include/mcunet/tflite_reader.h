// Reads an int8 .tflite flatbuffer into a Graph.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mcunet/graph.h"

namespace mcunet {

// Parses a .tflite model (schema version 3, one subgraph). Every op and tensor
// of the file appears in the graph, in file order, so planners can reproduce
// what TF-Lite Micro would do on the same file. Throws InvalidInput on a
// corrupt buffer (naming the offset), Unsupported on an op it does not know
// (naming the op and its index). `source` names the file in messages.
Graph ReadTflite(const uint8_t* data, size_t size, const std::string& source = "<buffer>");
Graph ReadTflite(const std::string& path);

}  // namespace mcunet
