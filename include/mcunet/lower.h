// Lowering an Arch to a Graph of int8 NHWC tensors and ops.
#pragma once

#include "mcunet/arch.h"
#include "mcunet/graph.h"

namespace mcunet {

// Writes the graph of `arch` into `out` (cleared first; capacity reused, so a
// hot loop that lowers many architectures into one Graph does not allocate
// once warmed up). Input is int8 [1, R, R, C]; output int8 [1, classes].
// The op sequence is: CONV_2D (first conv), per block [PW expand], DW,
// PW project, [ADD]; [PW feature mix]; MEAN; FULLY_CONNECTED.
void LowerArch(const Arch& arch, Graph* out);
Graph LowerArch(const Arch& arch);

}  // namespace mcunet
