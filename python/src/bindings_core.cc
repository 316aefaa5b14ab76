// Bindings of the core API: boards, the architecture IR, graphs, .tflite
// import and the analytic cost model with its memory plans.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/cost_model.h"
#include "mcunet/error.h"
#include "mcunet/graph.h"
#include "mcunet/lower.h"
#include "mcunet/memory_plan.h"
#include "mcunet/passes.h"
#include "mcunet/tflite_reader.h"

namespace mcunet::python {

namespace {

using pybind11::literals::operator""_a;

// ---- Python-side views ------------------------------------------------------

// A cost report (which holds the graph its plan indexes) and the board it was
// evaluated for. Shared (not copied) by the plan views handed to Python.
struct CostResult {
  std::shared_ptr<const CostReport> report;
  Board board;
  const Graph& graph() const { return report->graph; }
};

// The memory plan of a CostResult (same report, no copy).
struct PlanView {
  std::shared_ptr<const CostReport> report;
  const MemoryPlan& plan() const { return report->plan; }
  const Graph& graph() const { return report->graph; }
};

// One row of a plan: a graph op joined with what the planner decided for it.
struct PlanOpRow {
  int index = 0;
  std::string kind;
  std::vector<int32_t> output_shape;
  int64_t macs = 0;
  std::string overlap;
  int32_t overlap_input = -1;
  int64_t scratch_bytes = 0;
  int64_t live_bytes = 0;
  int64_t output_offset = -1;  // -1: output not planned in the arena
  int64_t output_bytes = 0;
};

std::vector<int32_t> ShapeList(const Shape& s) { return {s.dims.begin(), s.dims.begin() + s.rank}; }

CostResult MakeCostResult(CostReport report, Board board) {
  return {std::make_shared<const CostReport>(std::move(report)), std::move(board)};
}

CostResult Cost(const py::handle& model, const py::handle& board, const std::string& planner) {
  const Board b = ToBoard(board);
  if (py::isinstance<Arch>(model)) {
    const Arch arch = py::cast<Arch>(model);
    py::gil_scoped_release release;
    return MakeCostResult(EvaluateCost(arch, planner), b);
  }
  if (py::isinstance<Graph>(model)) {
    const Graph g = py::cast<Graph>(model);
    py::gil_scoped_release release;
    return MakeCostResult(EvaluateCost(g, planner), b);
  }
  if (IsPathLike(model)) {
    const std::string path = FsPath(model);
    const bool tflite = path.size() >= 7 && path.compare(path.size() - 7, 7, ".tflite") == 0;
    if (tflite) {
      const Graph g = ReadTflite(path);
      py::gil_scoped_release release;
      return MakeCostResult(EvaluateCost(g, planner), b);
    }
    const Arch arch = LoadArch(path);
    py::gil_scoped_release release;
    return MakeCostResult(EvaluateCost(arch, planner), b);
  }
  throw py::type_error("cost: expected a mcunet.Arch, a mcunet.Graph or a path (.json or .tflite), got " +
                       py::cast<std::string>(py::str(model.get_type().attr("__name__"))));
}

std::vector<PlanOpRow> PlanRows(const PlanView& v) {
  const Graph& g = v.graph();
  const MemoryPlan& p = v.plan();
  std::vector<PlanOpRow> rows;
  rows.reserve(g.ops.size());
  for (size_t k = 0; k < g.ops.size(); ++k) {
    const Op& op = g.ops[k];
    PlanOpRow row;
    row.index = static_cast<int>(k);
    row.kind = std::string(OpKindName(op.kind));
    row.macs = op.macs;
    if (op.output >= 0) {
      row.output_shape = ShapeList(g.tensors[op.output].shape);
      row.output_bytes = g.tensors[op.output].bytes();
      if (const BufferPlacement* b = p.FindTensor(op.output)) row.output_offset = b->offset;
    }
    if (k < p.ops.size()) {
      const OpPlan& o = p.ops[k];
      row.overlap = std::string(OverlapName(o.overlap));
      row.overlap_input = o.overlap_input;
      row.scratch_bytes = o.scratch_bytes;
      row.live_bytes = o.live_bytes;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

py::array_t<int64_t> LiveBytes(const PlanView& v) {
  const auto& ops = v.plan().ops;
  py::array_t<int64_t> out(static_cast<py::ssize_t>(ops.size()));
  auto w = out.mutable_unchecked<1>();
  for (size_t k = 0; k < ops.size(); ++k) w(static_cast<py::ssize_t>(k)) = ops[k].live_bytes;
  return out;
}

py::dict FlashDict(const FlashBreakdown& f) {
  return py::dict("weight_bytes"_a = f.weight_bytes, "bias_bytes"_a = f.bias_bytes,
                  "quant_bytes"_a = f.quant_bytes, "code_bytes"_a = f.code_bytes, "total"_a = f.total());
}

std::string ArchRepr(const Arch& a) {
  return "Arch(name='" + a.name + "', resolution=" + std::to_string(a.resolution) +
         ", blocks=" + std::to_string(a.blocks.size()) + ", num_classes=" + std::to_string(a.num_classes) + ")";
}

std::string BlockRepr(const MBBlock& b) {
  return "MBBlock(in_channels=" + std::to_string(b.in_channels) + ", out_channels=" +
         std::to_string(b.out_channels) + ", mid_channels=" + std::to_string(b.mid_channels) +
         ", kernel=" + std::to_string(b.kernel) + ", stride=" + std::to_string(b.stride) +
         ", expand_ratio=" + std::to_string(b.expand_ratio) + ", residual=" + (b.residual ? "True" : "False") +
         ")";
}

// ---- Registration -----------------------------------------------------------

void RegisterBoards(py::module_& m) {
  py::class_<Board>(m, "Board",
                    "A target microcontroller: SRAM and Flash budgets and the core clock used by the latency "
                    "model. kB means KiB throughout, as in the MCUNet tables.")
      .def(py::init([](const std::string& name, const std::string& core, int64_t sram_kb, int64_t flash_kb,
                       int clock_mhz, const std::string& description) {
             nlohmann::json j = {{"name", name},       {"core", core},           {"sram_kb", sram_kb},
                                 {"flash_kb", flash_kb}, {"clock_mhz", clock_mhz}, {"description", description}};
             return BoardFromJson(j, "Board(" + name + ")");
           }),
           "name"_a, "core"_a, "sram_kb"_a, "flash_kb"_a, "clock_mhz"_a, "description"_a = "",
           "A custom board. `core` is 'cortex-m4' or 'cortex-m7'. Raises ValueError on a bad field.")
      .def_readonly("name", &Board::name, "Board name, e.g. 'stm32f746'.")
      .def_property_readonly("core", [](const Board& b) { return CoreName(b.core); },
                             "'cortex-m4' or 'cortex-m7'.")
      .def_readonly("sram_bytes", &Board::sram_bytes, "SRAM budget in bytes.")
      .def_readonly("flash_bytes", &Board::flash_bytes, "Flash budget in bytes.")
      .def_readonly("clock_mhz", &Board::clock_mhz, "Core clock (MHz) used for latency estimates.")
      .def_readonly("description", &Board::description, "Human-readable description.")
      .def("to_dict", [](const Board& b) { return FromJson(BoardToJson(b)); },
           "The board as the JSON dict of a board file ({'name', 'core', 'sram_kb', 'flash_kb', ...}).")
      .def_static(
          "from_dict", [](const py::dict& d, const std::string& source) { return BoardFromJson(ToJson(d), source); },
          "d"_a, "source"_a = "<dict>", "A board from the dict of a board file; `source` names it in errors.")
      .def("__eq__", [](const Board& a, const Board& b) { return BoardToJson(a) == BoardToJson(b); })
      .def("__repr__", [](const Board& b) {
        return "Board(name='" + b.name + "', core='" + CoreName(b.core) + "', sram_bytes=" +
               std::to_string(b.sram_bytes) + ", flash_bytes=" + std::to_string(b.flash_bytes) +
               ", clock_mhz=" + std::to_string(b.clock_mhz) + ")";
      });

  m.def("boards", &BuiltinBoards,
        "The four boards of the MCUNet paper: stm32f412, stm32f746 (default), stm32f765, stm32h743.");
  m.def(
      "board", [](const py::handle& name) { return ToBoard(name); }, "name"_a = kDefaultBoard,
      "A board by name (case-insensitive; 'STM32F746' and 'f746' both work) or from a board JSON file. "
      "Raises ValueError listing the known boards.");
  m.attr("DEFAULT_BOARD") = kDefaultBoard;
}

void RegisterArch(py::module_& m) {
  py::class_<FirstConv>(m, "FirstConv", "The first (stem) convolution: k x k, stride s, BN + ReLU6.")
      .def(py::init([](int out_channels, int kernel, int stride) { return FirstConv{out_channels, kernel, stride}; }),
           "out_channels"_a = 16, "kernel"_a = 3, "stride"_a = 2)
      .def_readwrite("out_channels", &FirstConv::out_channels, "Output channels.")
      .def_readwrite("kernel", &FirstConv::kernel, "Kernel size.")
      .def_readwrite("stride", &FirstConv::stride, "Stride.")
      .def("__eq__", [](const FirstConv& a, const FirstConv& b) { return a == b; })
      .def("__repr__", [](const FirstConv& f) {
        return "FirstConv(out_channels=" + std::to_string(f.out_channels) + ", kernel=" + std::to_string(f.kernel) +
               ", stride=" + std::to_string(f.stride) + ")";
      });

  py::class_<MBBlock>(m, "MBBlock",
                      "Inverted-residual block: 1x1 expand (absent when expand_ratio == 1), k x k depthwise with "
                      "`stride`, 1x1 linear projection, optional identity shortcut.")
      .def(py::init([](int in_channels, int out_channels, int mid_channels, int kernel, int stride,
                       int expand_ratio, bool residual) {
             return MBBlock{in_channels, out_channels, mid_channels, kernel, stride, expand_ratio, residual};
           }),
           "in_channels"_a, "out_channels"_a, "mid_channels"_a, "kernel"_a = 3, "stride"_a = 1,
           "expand_ratio"_a = 1, "residual"_a = false)
      .def_readwrite("in_channels", &MBBlock::in_channels, "Input channels.")
      .def_readwrite("out_channels", &MBBlock::out_channels, "Output channels.")
      .def_readwrite("mid_channels", &MBBlock::mid_channels, "Channels of the depthwise convolution.")
      .def_readwrite("kernel", &MBBlock::kernel, "Depthwise kernel size.")
      .def_readwrite("stride", &MBBlock::stride, "Depthwise stride.")
      .def_readwrite("expand_ratio", &MBBlock::expand_ratio, "Expand ratio (1: no expand conv).")
      .def_readwrite("residual", &MBBlock::residual, "Identity shortcut.")
      .def_property_readonly("has_expand", &MBBlock::has_expand, "Whether the block has a 1x1 expand conv.")
      .def("__eq__", [](const MBBlock& a, const MBBlock& b) { return a == b; })
      .def("__repr__", &BlockRepr);

  py::class_<Arch>(m, "Arch",
                   "An MCUNet-style network as plain data: first conv -> MBConv blocks -> optional 1x1 feature "
                   "mix -> global average pool -> linear classifier. Attributes return copies: assign "
                   "`arch.blocks = blocks` to change blocks.")
      .def(py::init([](const std::string& name, int resolution, int num_classes, const std::vector<MBBlock>& blocks,
                       const FirstConv& first_conv, int in_channels, int feature_mix_channels, bool validate) {
             Arch a;
             a.name = name;
             a.resolution = resolution;
             a.num_classes = num_classes;
             a.blocks = blocks;
             a.first_conv = first_conv;
             a.in_channels = in_channels;
             a.feature_mix_channels = feature_mix_channels;
             if (validate) a.Validate();
             return a;
           }),
           "name"_a = "", "resolution"_a, "num_classes"_a, "blocks"_a, "first_conv"_a = FirstConv(),
           "in_channels"_a = 3, "feature_mix_channels"_a = 0, "validate"_a = true,
           "Build an architecture; validated unless validate=False (ValueError naming the offending "
           "block and field).")
      .def_readwrite("name", &Arch::name, "Name (zoo models are named after their file).")
      .def_readwrite("resolution", &Arch::resolution, "Input resolution (square), pixels.")
      .def_readwrite("in_channels", &Arch::in_channels, "Input channels.")
      .def_readwrite("num_classes", &Arch::num_classes, "Classifier outputs.")
      .def_readwrite("first_conv", &Arch::first_conv, "The stem convolution (a copy).")
      .def_readwrite("blocks", &Arch::blocks, "The MBConv blocks (a copy).")
      .def_readwrite("feature_mix_channels", &Arch::feature_mix_channels, "1x1 feature-mix channels (0: none).")
      .def_property_readonly("last_channels", &Arch::last_channels, "Channels that reach the classifier.")
      .def("validate", &Arch::Validate, "Raise ValueError naming the offending block/field if inconsistent.")
      .def("to_dict", [](const Arch& a) { return FromJson(ArchToJson(a)); },
           "This project's versioned JSON as a dict ({'schema_version': 1, 'kind': 'arch', ...}).")
      .def_static(
          "from_dict", [](const py::handle& d, const std::string& source) { return ArchFromJson(ToJson(d), source); },
          "d"_a, "source"_a = "<dict>",
          "An architecture from a dict in our format or the original MCUNet/ProxylessNAS zoo format; "
          "`source` names it in errors.")
      .def("to_json", [](const Arch& a, int indent) { return ArchToJson(a).dump(indent); }, "indent"_a = 2,
           "This project's versioned JSON text.")
      .def_static(
          "from_json",
          [](const std::string& text, const std::string& source) {
            nlohmann::json j;
            try {
              j = nlohmann::json::parse(text);
            } catch (const nlohmann::json::parse_error& e) {
              throw InvalidInput(source + ": malformed JSON: " + e.what());
            }
            return ArchFromJson(j, source);
          },
          "text"_a, "source"_a = "<json>", "An architecture from JSON text (ours or the zoo format).")
      .def_static(
          "load", [](const py::handle& path) { return LoadArch(FsPath(path)); }, "path"_a,
          "Load a JSON file (ours or the original zoo format, e.g. mcunet-5fps_imagenet.json). Raises "
          "FileNotFoundError or ValueError naming the file and field.")
      .def(
          "save", [](const Arch& a, const py::handle& path) { SaveArch(a, FsPath(path)); }, "path"_a,
          "Write this project's versioned JSON (atomically).")
      .def("copy", [](const Arch& a) { return Arch(a); }, "A deep copy.")
      .def("__copy__", [](const Arch& a) { return Arch(a); })
      .def("__deepcopy__", [](const Arch& a, const py::dict&) { return Arch(a); }, "memo"_a)
      .def("__eq__", [](const Arch& a, const Arch& b) { return a == b; })
      .def("__repr__", &ArchRepr)
      .def(py::pickle([](const Arch& a) { return py::str(ArchToJson(a).dump()); },
                      [](const py::str& s) { return ArchFromJson(nlohmann::json::parse(std::string(s)), "<pickle>"); }));

  m.def(
      "load_arch", [](const py::handle& path) { return LoadArch(FsPath(path)); }, "path"_a,
      "Same as Arch.load: an architecture JSON file (ours or the original zoo format).");
}

void RegisterGraph(py::module_& m) {
  py::class_<Tensor>(m, "Tensor", "A graph tensor (NHWC). Constants (weights, biases) live in Flash.")
      .def_readonly("name", &Tensor::name, "Tensor name.")
      .def_property_readonly("dtype", [](const Tensor& t) { return std::string(DTypeName(t.dtype)); },
                             "'int8', 'uint8', 'int16', 'int32', 'int64' or 'float32'.")
      .def_property_readonly("shape", [](const Tensor& t) { return py::tuple(py::cast(ShapeList(t.shape))); },
                             "Shape as a tuple.")
      .def_readonly("is_constant", &Tensor::is_constant, "Whether the tensor is a constant (never planned).")
      .def_property_readonly("bytes", &Tensor::bytes, "Size in bytes.")
      .def_property_readonly("scale", [](const Tensor& t) { return t.quant.scale; },
                             "Quantisation scales (one per tensor or per channel; empty if not quantised).")
      .def_property_readonly("zero_point", [](const Tensor& t) { return t.quant.zero_point; },
                             "Quantisation zero points.")
      .def("__repr__", [](const Tensor& t) {
        return "Tensor(name='" + t.name + "', dtype='" + std::string(DTypeName(t.dtype)) + "', shape=" +
               t.shape.ToString() + (t.is_constant ? ", constant" : "") + ")";
      });

  py::class_<Op>(m, "Op", "One operator of a graph; `inputs` follow TFLite's order ({data, weights, bias}).")
      .def_property_readonly("kind", [](const Op& op) { return std::string(OpKindName(op.kind)); },
                             "Op kind, e.g. 'CONV_2D', 'CONV_2D_1x1', 'DEPTHWISE_CONV_2D', 'ADD', 'MEAN'.")
      .def_property_readonly("inputs",
                             [](const Op& op) {
                               std::vector<int32_t> in;
                               for (int32_t t : op.inputs) {
                                 if (t >= 0) in.push_back(t);
                               }
                               return in;
                             },
                             "Indices of the input tensors.")
      .def_readonly("output", &Op::output, "Index of the output tensor.")
      .def_property_readonly("kernel", [](const Op& op) { return py::make_tuple(op.kernel_h, op.kernel_w); },
                             "(kernel_h, kernel_w).")
      .def_property_readonly("stride", [](const Op& op) { return py::make_tuple(op.stride_h, op.stride_w); },
                             "(stride_h, stride_w).")
      .def_property_readonly("padding", [](const Op& op) { return py::make_tuple(op.pad_top, op.pad_left); },
                             "(pad_top, pad_left) as resolved.")
      .def_property_readonly("activation",
                             [](const Op& op) {
                               switch (op.activation) {
                                 case Activation::kRelu: return "relu";
                                 case Activation::kRelu6: return "relu6";
                                 default: return "none";
                               }
                             },
                             "'none', 'relu' or 'relu6'.")
      .def_readonly("depth_multiplier", &Op::depth_multiplier, "Depthwise depth multiplier.")
      .def_readonly("macs", &Op::macs, "Multiply-accumulates of this op.")
      .def_readonly("source_index", &Op::source_index, "Operator index in the .tflite it came from (-1: none).")
      .def("__repr__", [](const Op& op) {
        return "Op(kind='" + std::string(OpKindName(op.kind)) + "', output=" + std::to_string(op.output) +
               ", macs=" + std::to_string(op.macs) + ")";
      });

  py::class_<Graph>(m, "Graph",
                    "The lowered form of a network (ops in execution order, NHWC tensors), shared by the cost "
                    "model, the planners, the .tflite reader and the code generator.")
      .def_readonly("name", &Graph::name, "Graph name.")
      .def_readonly("tensors", &Graph::tensors, "All tensors (a copy).")
      .def_readonly("ops", &Graph::ops, "Ops in execution order (a copy).")
      .def_readonly("inputs", &Graph::inputs, "Graph input tensor indices.")
      .def_readonly("outputs", &Graph::outputs, "Graph output tensor indices.")
      .def_property_readonly("total_macs", &Graph::TotalMacs, "Sum of the ops' MACs.")
      .def("validate", &Graph::Validate, "Raise ValueError if an index is out of range or a read precedes its write.")
      .def(
          "summary",
          [](const Graph& g) {
            py::list rows;
            for (size_t k = 0; k < g.ops.size(); ++k) {
              const Op& op = g.ops[k];
              rows.append(py::dict("index"_a = k, "kind"_a = std::string(OpKindName(op.kind)),
                                   "shape"_a = ShapeList(g.tensors[op.output].shape), "macs"_a = op.macs));
            }
            return rows;
          },
          "One dict per op: {'index', 'kind', 'shape' (output, NHWC), 'macs'}.")
      .def("__len__", [](const Graph& g) { return g.ops.size(); })
      .def("__repr__", [](const Graph& g) {
        return "Graph(name='" + g.name + "', ops=" + std::to_string(g.ops.size()) + ", tensors=" +
               std::to_string(g.tensors.size()) + ", macs=" + std::to_string(g.TotalMacs()) + ")";
      });

  m.def("lower", py::overload_cast<const Arch&>(&LowerArch), "arch"_a,
        "Lower an architecture to its int8 graph: CONV_2D, per block [1x1 expand], DW, 1x1 project, [ADD]; "
        "[1x1 feature mix]; MEAN; FULLY_CONNECTED.");
  m.def(
      "read_tflite",
      [](const py::handle& model, const std::string& source) {
        if (py::isinstance<py::bytes>(model)) {
          const std::string data = py::cast<std::string>(model);
          return ReadTflite(reinterpret_cast<const uint8_t*>(data.data()), data.size(), source);
        }
        return ReadTflite(FsPath(model));
      },
      "model"_a, "source"_a = "<buffer>",
      "Read an int8 .tflite (a path, or the file's bytes) into a Graph, every op and tensor in file order. "
      "Raises FileNotFoundError, ValueError on a corrupt buffer, UnsupportedError on an unknown op.");
  m.def("fold_int8_input", py::overload_cast<const Graph&>(&FoldInt8Input), "graph"_a,
        "The same network with int8 I/O, as TinyEngine runs a .tflite: leading QUANTIZE/TRANSPOSE and a "
        "trailing DEQUANTIZE removed, PADs folded into their convolutions. Tensor indices are kept.");
}

void RegisterCost(py::module_& m) {
  py::class_<ParamCounts>(m, "ParamCounts",
                          "MACs and parameters, counted as the original MCUNet repository counts them.")
      .def_readonly("macs", &ParamCounts::macs, "Multiply-accumulates of conv and linear layers.")
      .def_readonly("params", &ParamCounts::params, "Parameters including BatchNorm's weight and bias.")
      .def_readonly("params_folded", &ParamCounts::params_folded, "Parameters after folding BN into the convs.")
      .def("__repr__", [](const ParamCounts& c) {
        return "ParamCounts(macs=" + std::to_string(c.macs) + ", params=" + std::to_string(c.params) +
               ", params_folded=" + std::to_string(c.params_folded) + ")";
      });
  m.def("count", &CountArch, "arch"_a, "MACs and parameters of an architecture (no planning; fast).");

  py::class_<FitResult>(m, "FitResult", "Whether a cost fits a board, and by how much each budget fails.")
      .def_readonly("fits", &FitResult::fits, "True if peak SRAM and Flash are within the board's budgets.")
      .def_readonly("sram_excess_bytes", &FitResult::sram_excess_bytes, "> 0: SRAM over budget by this much.")
      .def_readonly("flash_excess_bytes", &FitResult::flash_excess_bytes, "> 0: Flash over budget by this much.")
      .def_readonly("message", &FitResult::message, "'fits ...' or what fails and by how much.")
      .def("__bool__", [](const FitResult& f) { return f.fits; })
      .def("__repr__", [](const FitResult& f) { return "FitResult(" + f.message + ")"; });

  py::class_<BufferPlacement>(m, "Buffer",
                              "One planned buffer: an activation tensor (tensor >= 0) or an op's scratch "
                              "(tensor == -1). Lifetime is the closed interval [first_op, last_op].")
      .def_readonly("tensor", &BufferPlacement::tensor, "Tensor index, or -1 for scratch.")
      .def_readonly("op", &BufferPlacement::op, "For scratch: the op that requested it.")
      .def_readonly("offset", &BufferPlacement::offset, "Byte offset in the arena.")
      .def_readonly("size", &BufferPlacement::size, "Bytes as planned.")
      .def_readonly("first_op", &BufferPlacement::first_op, "First op index of the lifetime.")
      .def_readonly("last_op", &BufferPlacement::last_op, "Last op index of the lifetime (inclusive).")
      .def("__repr__", [](const BufferPlacement& b) {
        return "Buffer(tensor=" + std::to_string(b.tensor) + ", offset=" + std::to_string(b.offset) +
               ", size=" + std::to_string(b.size) + ", ops=[" + std::to_string(b.first_op) + ", " +
               std::to_string(b.last_op) + "])";
      });

  py::class_<PlanOpRow>(m, "PlanOp", "One op of a memory plan: the graph op and what the planner decided for it.")
      .def_readonly("index", &PlanOpRow::index, "Op index in the planned graph.")
      .def_readonly("kind", &PlanOpRow::kind, "Op kind, e.g. 'DEPTHWISE_CONV_2D'.")
      .def_readonly("output_shape", &PlanOpRow::output_shape, "Output shape (NHWC).")
      .def_readonly("macs", &PlanOpRow::macs, "MACs of the op.")
      .def_readonly("overlap", &PlanOpRow::overlap,
                    "How the output shares bytes with an input: 'none', 'inplace_depthwise', "
                    "'pointwise_forward', 'pointwise_reverse' or 'elementwise'.")
      .def_readonly("overlap_input", &PlanOpRow::overlap_input, "Tensor whose bytes the output reuses (-1: none).")
      .def_readonly("scratch_bytes", &PlanOpRow::scratch_bytes, "Scratch the op asks for.")
      .def_readonly("live_bytes", &PlanOpRow::live_bytes, "Arena bytes in use while the op runs.")
      .def_readonly("output_offset", &PlanOpRow::output_offset, "Arena offset of the output (-1: not planned).")
      .def_readonly("output_bytes", &PlanOpRow::output_bytes, "Bytes of the output tensor.")
      .def("to_dict",
           [](const PlanOpRow& r) {
             return py::dict("index"_a = r.index, "kind"_a = r.kind, "output_shape"_a = r.output_shape,
                             "macs"_a = r.macs, "overlap"_a = r.overlap, "overlap_input"_a = r.overlap_input,
                             "scratch_bytes"_a = r.scratch_bytes, "live_bytes"_a = r.live_bytes,
                             "output_offset"_a = r.output_offset, "output_bytes"_a = r.output_bytes);
           },
           "The row as a dict.")
      .def("__repr__", [](const PlanOpRow& r) {
        return "PlanOp(index=" + std::to_string(r.index) + ", kind='" + r.kind + "', live_bytes=" +
               std::to_string(r.live_bytes) + ", overlap='" + r.overlap + "')";
      });

  py::class_<PlanView>(m, "MemoryPlan",
                       "Where every activation tensor and scratch buffer lives in SRAM: the same plan the code "
                       "generator emits.")
      .def_property_readonly("planner", [](const PlanView& v) { return v.plan().planner; },
                             "'tinyengine', 'tflm' or 'cmsis'.")
      .def_property_readonly("arena_bytes", [](const PlanView& v) { return v.plan().arena_bytes; },
                             "Bytes of the activation arena.")
      .def_property_readonly("scratch_bytes", [](const PlanView& v) { return v.plan().scratch_bytes; },
                             "Scratch outside the arena (one shared buffer, paper Eq. 1; 0 for tflm).")
      .def_property_readonly("peak_sram_bytes", [](const PlanView& v) { return v.plan().peak_sram_bytes; },
                             "arena_bytes + scratch_bytes.")
      .def_property_readonly("buffers", [](const PlanView& v) { return v.plan().buffers; },
                             "Every planned buffer with its offset, size and lifetime.")
      .def_property_readonly("ops", &PlanRows, "One PlanOp per op of the planned graph.")
      .def_property_readonly("live_bytes", &LiveBytes, "Arena bytes in use per op, as a NumPy int64 array.")
      .def_property_readonly("graph", [](const PlanView& v) { return v.graph(); },
                             "The graph the plan indexes (for a .tflite under tinyengine: the int8-I/O graph).")
      .def("timeline", [](const PlanView& v, int width) { return v.plan().Timeline(v.graph(), width); },
           "width"_a = 80, "ASCII timeline (one row per op, one column per arena slice, a letter per buffer).")
      .def("check_consistent", [](const PlanView& v) { v.plan().CheckConsistent(v.graph()); },
           "Raise RuntimeError if two buffers collide beyond what the ops' overlap allows.")
      .def("to_dict", [](const PlanView& v) { return FromJson(MemoryPlanToJson(v.plan(), v.graph())); },
           "The plan's JSON as a dict.")
      .def("__len__", [](const PlanView& v) { return v.plan().ops.size(); })
      .def("__repr__", [](const PlanView& v) {
        const MemoryPlan& p = v.plan();
        return "MemoryPlan(planner='" + p.planner + "', arena_bytes=" + std::to_string(p.arena_bytes) +
               ", scratch_bytes=" + std::to_string(p.scratch_bytes) + ", peak_sram_bytes=" +
               std::to_string(p.peak_sram_bytes) + ")";
      });

  py::class_<CostResult>(m, "Cost", "MACs, params, Flash and peak SRAM of a model under a memory planner.")
      .def_property_readonly("macs", [](const CostResult& c) { return c.report->counts.macs; }, "MACs.")
      .def_property_readonly("params", [](const CostResult& c) { return c.report->counts.params; },
                             "Parameters including BN (the original repository's count).")
      .def_property_readonly("params_folded", [](const CostResult& c) { return c.report->counts.params_folded; },
                             "Parameters with BN folded into the convolutions.")
      .def_property_readonly("flash_bytes", [](const CostResult& c) { return c.report->flash_bytes(); },
                             "Flash bytes of the deployed int8 model (weights, biases, requantisation, code).")
      .def_property_readonly("flash", [](const CostResult& c) { return FlashDict(c.report->flash); },
                             "Flash breakdown: {'weight_bytes', 'bias_bytes', 'quant_bytes', 'code_bytes', "
                             "'total'}.")
      .def_property_readonly("peak_sram_bytes", [](const CostResult& c) { return c.report->peak_sram_bytes(); },
                             "Peak SRAM: arena + scratch.")
      .def_property_readonly("arena_bytes", [](const CostResult& c) { return c.report->plan.arena_bytes; },
                             "Activation arena bytes.")
      .def_property_readonly("scratch_bytes", [](const CostResult& c) { return c.report->plan.scratch_bytes; },
                             "Scratch bytes outside the arena.")
      .def_property_readonly("planner", [](const CostResult& c) { return c.report->plan.planner; },
                             "The planner used.")
      .def_readonly("board", &CostResult::board, "The board this cost was evaluated for.")
      .def_property_readonly("plan", [](const CostResult& c) { return PlanView{c.report}; },
                             "The memory plan (per-op rows, buffers, live bytes, timeline).")
      .def_property_readonly("graph", [](const CostResult& c) { return c.graph(); },
                             "The planned graph (for a .tflite under tinyengine: folded to int8 I/O).")
      .def_property_readonly("live_bytes", [](const CostResult& c) { return LiveBytes(PlanView{c.report}); },
                             "Same as plan.live_bytes: arena bytes in use per op (NumPy int64).")
      .def("timeline", [](const CostResult& c, int width) { return c.report->plan.Timeline(c.graph(), width); },
           "width"_a = 80, "Same as plan.timeline().")
      .def(
          "fits",
          [](const CostResult& c, const py::object& board) {
            return Fits(*c.report, board.is_none() ? c.board : ToBoard(board));
          },
          "board"_a = py::none(), "Whether the model fits `board` (default: the board given to cost()).")
      .def("to_dict", [](const CostResult& c) { return FromJson(CostReportToJson(*c.report)); },
           "The versioned cost JSON (as `mcunet cost --json` prints) as a dict.")
      .def("__repr__", [](const CostResult& c) {
        const CostReport& r = *c.report;
        return "Cost(planner='" + r.plan.planner + "', macs=" + std::to_string(r.counts.macs) + ", params=" +
               std::to_string(r.counts.params) + ", flash_bytes=" + std::to_string(r.flash_bytes()) +
               ", peak_sram_bytes=" + std::to_string(r.peak_sram_bytes()) + ")";
      });

  m.def("cost", &Cost, "model"_a, "board"_a = kDefaultBoard, "planner"_a = kDefaultPlanner,
        "MACs, params, Flash and peak SRAM of `model` -- a mcunet.Arch, a mcunet.Graph, or a path to an "
        "architecture JSON (ours or the zoo format) or an int8 .tflite -- under `planner` ('tinyengine', "
        "'tflm' or 'cmsis'), for `board` (a name, a board JSON path or a mcunet.Board). Raises ValueError "
        "or FileNotFoundError naming the file and field.");
  m.def("planners", &PlannerNames, "Names of the memory planners: tinyengine (default), tflm, cmsis.");
  m.attr("DEFAULT_PLANNER") = kDefaultPlanner;
}

}  // namespace

Board ToBoard(const py::handle& board) {
  if (py::isinstance<Board>(board)) return py::cast<Board>(board);
  if (IsPathLike(board)) return FindBoard(FsPath(board));
  throw py::type_error("board: expected a board name, a board JSON path or a mcunet.Board, got " +
                       py::cast<std::string>(py::str(board.get_type().attr("__name__"))));
}

void RegisterCore(py::module_& m) {
  RegisterBoards(m);
  RegisterArch(m);
  RegisterGraph(m);
  RegisterCost(m);
}

}  // namespace mcunet::python
