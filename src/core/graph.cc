#include "mcunet/graph.h"

#include <string>

#include "mcunet/error.h"

namespace mcunet {

int DTypeSize(DType t) {
  switch (t) {
    case DType::kInt8:
    case DType::kUInt8:
      return 1;
    case DType::kInt16:
      return 2;
    case DType::kInt32:
    case DType::kFloat32:
      return 4;
    case DType::kInt64:
      return 8;
  }
  return 1;
}

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kFloat32: return "float32";
  }
  return "?";
}

std::string_view OpKindName(OpKind k) {
  switch (k) {
    case OpKind::kConv2D: return "CONV_2D";
    case OpKind::kPointwiseConv2D: return "CONV_2D_1x1";
    case OpKind::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case OpKind::kAdd: return "ADD";
    case OpKind::kMean: return "MEAN";
    case OpKind::kAveragePool2D: return "AVERAGE_POOL_2D";
    case OpKind::kFullyConnected: return "FULLY_CONNECTED";
    case OpKind::kQuantize: return "QUANTIZE";
    case OpKind::kDequantize: return "DEQUANTIZE";
    case OpKind::kTranspose: return "TRANSPOSE";
    case OpKind::kPad: return "PAD";
    case OpKind::kReshape: return "RESHAPE";
    case OpKind::kSoftmax: return "SOFTMAX";
  }
  return "?";
}

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] != o.dims[i]) return false;
  }
  return true;
}

std::string Shape::ToString() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ",";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

Shape MakeShape(std::initializer_list<int32_t> dims) {
  Shape s;
  if (dims.size() > s.dims.size()) throw InvalidInput("shape rank " + std::to_string(dims.size()) + " > 4");
  for (int32_t d : dims) s.dims[s.rank++] = d;
  return s;
}

void Graph::Clear() {
  name.clear();
  tensors.clear();
  ops.clear();
  inputs.clear();
  outputs.clear();
}

int32_t Graph::AddTensor(DType dtype, Shape shape, bool is_constant) {
  tensors.emplace_back();
  Tensor& t = tensors.back();
  t.name.clear();
  t.dtype = dtype;
  t.shape = shape;
  t.is_constant = is_constant;
  return static_cast<int32_t>(tensors.size() - 1);
}

int64_t Graph::TotalMacs() const {
  int64_t n = 0;
  for (const Op& op : ops) n += op.macs;
  return n;
}

void Graph::Validate() const {
  const int32_t n = static_cast<int32_t>(tensors.size());
  const std::string who = name.empty() ? std::string("graph") : "graph '" + name + "'";
  std::vector<char> available(tensors.size(), 0);
  for (int32_t t = 0; t < n; ++t) {
    for (int i = 0; i < tensors[t].shape.rank; ++i) {
      if (tensors[t].shape.dims[i] <= 0) {
        throw InvalidInput(who + ": tensor " + std::to_string(t) + " has a non-positive dimension " +
                           tensors[t].shape.ToString());
      }
    }
    if (tensors[t].is_constant) available[t] = 1;
  }
  for (int32_t t : inputs) {
    if (t < 0 || t >= n) throw InvalidInput(who + ": graph input index " + std::to_string(t) + " out of range");
    available[t] = 1;
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const std::string where = who + ": op " + std::to_string(i) + " (" + std::string(OpKindName(op.kind)) + ")";
    for (int32_t t : op.inputs) {
      if (t < -1 || t >= n) throw InvalidInput(where + ": input tensor index " + std::to_string(t) + " out of range");
      if (t >= 0 && !available[t]) {
        throw InvalidInput(where + ": reads tensor " + std::to_string(t) +
                           " before any op produces it (not a graph input or constant)");
      }
    }
    if (op.inputs[0] < 0) throw InvalidInput(where + ": has no data input");
    if (op.output < 0 || op.output >= n) throw InvalidInput(where + ": output tensor index out of range");
    if (tensors[op.output].is_constant) throw InvalidInput(where + ": writes a constant tensor");
    available[op.output] = 1;
  }
  for (int32_t t : outputs) {
    if (t < 0 || t >= n) throw InvalidInput(who + ": graph output index " + std::to_string(t) + " out of range");
  }
}

}  // namespace mcunet
