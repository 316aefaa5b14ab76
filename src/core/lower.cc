#include "mcunet/lower.h"

namespace mcunet {

namespace {

Shape Dims(int32_t a) { return Shape{{a, 1, 1, 1}, 1}; }
Shape Dims(int32_t a, int32_t b) { return Shape{{a, b, 1, 1}, 2}; }
Shape Dims(int32_t a, int32_t b, int32_t c, int32_t d) { return Shape{{a, b, c, d}, 4}; }

// Writes tensors into the graph's existing Tensor objects where it has them,
// so lowering many architectures into one Graph constructs nothing once
// warmed up (the search's inner loop).
class TensorWriter {
 public:
  explicit TensorWriter(Graph* g) : g_(g) {}
  ~TensorWriter() { g_->tensors.resize(n_); }
  int32_t Add(DType dtype, Shape shape, bool is_constant = false) {
    if (n_ == static_cast<int32_t>(g_->tensors.size())) g_->tensors.emplace_back();
    Tensor& t = g_->tensors[n_];
    t.name.clear();
    t.data.clear();
    t.quant.scale.clear();
    t.quant.zero_point.clear();
    t.quant.quantized_dimension = 0;
    t.dtype = dtype;
    t.shape = shape;
    t.is_constant = is_constant;
    return n_++;
  }

 private:
  Graph* g_;
  int32_t n_ = 0;
};

// Appends the constant weight and int32 bias tensors of a conv/FC.
void AddParams(TensorWriter& w, Op* op, Shape weight_shape, int32_t out_channels) {
  op->inputs[1] = w.Add(DType::kInt8, weight_shape, /*is_constant=*/true);
  op->inputs[2] = w.Add(DType::kInt32, Dims(out_channels), /*is_constant=*/true);
}

// Adds a convolution (general, depthwise or 1x1) reading `in` of [1,h,h,cin].
int32_t AddConv(Graph* g, TensorWriter& w, OpKind kind, int32_t in, int h, int cin, int cout, int kernel, int stride,
                Activation act) {
  const int out_h = ConvOutSize(h, stride);
  Op op;
  op.kind = kind;
  op.inputs[0] = in;
  op.kernel_h = op.kernel_w = kernel;
  op.stride_h = op.stride_w = stride;
  op.padding = Padding::kSame;
  // Trained networks pad k/2 on every side (PyTorch); for odd k this gives
  // the same output size as TFLite's SAME.
  op.pad_top = op.pad_left = kernel / 2;
  op.activation = act;
  if (kind == OpKind::kDepthwiseConv2D) {
    AddParams(w, &op, Dims(1, kernel, kernel, cout), cout);
    op.macs = int64_t{out_h} * out_h * cout * kernel * kernel;
  } else {
    AddParams(w, &op, Dims(cout, kernel, kernel, cin), cout);
    op.macs = int64_t{out_h} * out_h * cout * kernel * kernel * cin;
  }
  op.output = w.Add(DType::kInt8, Dims(1, out_h, out_h, cout));
  g->ops.push_back(op);
  return op.output;
}

}  // namespace

void LowerArch(const Arch& a, Graph* g) {
  g->name = a.name;
  g->ops.clear();
  g->inputs.clear();
  g->outputs.clear();
  TensorWriter w(g);
  int h = a.resolution;
  int c = a.in_channels;
  int32_t x = w.Add(DType::kInt8, Dims(1, h, h, c));
  g->inputs.push_back(x);

  x = AddConv(g, w, OpKind::kConv2D, x, h, c, a.first_conv.out_channels, a.first_conv.kernel, a.first_conv.stride,
              Activation::kRelu6);
  h = ConvOutSize(h, a.first_conv.stride);
  c = a.first_conv.out_channels;

  for (const MBBlock& b : a.blocks) {
    const int32_t block_in = x;
    if (b.has_expand()) {
      x = AddConv(g, w, OpKind::kPointwiseConv2D, x, h, c, b.mid_channels, 1, 1, Activation::kRelu6);
    }
    x = AddConv(g, w, OpKind::kDepthwiseConv2D, x, h, b.mid_channels, b.mid_channels, b.kernel, b.stride,
                Activation::kRelu6);
    h = ConvOutSize(h, b.stride);
    x = AddConv(g, w, OpKind::kPointwiseConv2D, x, h, b.mid_channels, b.out_channels, 1, 1, Activation::kNone);
    c = b.out_channels;
    if (b.residual) {
      Op add;
      add.kind = OpKind::kAdd;
      add.inputs[0] = x;
      add.inputs[1] = block_in;
      add.output = w.Add(DType::kInt8, Dims(1, h, h, c));
      g->ops.push_back(add);
      x = add.output;
    }
  }
  if (a.feature_mix_channels > 0) {
    x = AddConv(g, w, OpKind::kPointwiseConv2D, x, h, c, a.feature_mix_channels, 1, 1, Activation::kRelu6);
    c = a.feature_mix_channels;
  }

  Op mean;
  mean.kind = OpKind::kMean;
  mean.inputs[0] = x;
  mean.kernel_h = mean.kernel_w = h;
  mean.output = w.Add(DType::kInt8, Dims(1, c));
  g->ops.push_back(mean);

  Op fc;
  fc.kind = OpKind::kFullyConnected;
  fc.inputs[0] = mean.output;
  fc.inputs[1] = w.Add(DType::kInt8, Dims(a.num_classes, c), true);
  fc.inputs[2] = w.Add(DType::kInt32, Dims(a.num_classes), true);
  fc.macs = int64_t{c} * a.num_classes;
  fc.output = w.Add(DType::kInt8, Dims(1, a.num_classes));
  g->ops.push_back(fc);
  g->outputs.push_back(fc.output);
}

Graph LowerArch(const Arch& arch) {
  Graph g;
  LowerArch(arch, &g);
  return g;
}

}  // namespace mcunet
