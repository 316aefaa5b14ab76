// Bindings of the TinyNAS search space: the portable Rng, sub-spaces (W, R),
// genes, and seeded sampling, mutation, crossover, decode and encode.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "mcunet/arch.h"
#include "mcunet/search_space.h"

namespace mcunet::python {

namespace {

using pybind11::literals::operator""_a;

std::string SubSpaceRepr(const SubSpace& s) {
  return "SubSpace(width_mult=" + py::cast<std::string>(py::repr(py::float_(s.width_mult))) +
         ", resolution=" + std::to_string(s.resolution) + ")";
}

void RegisterRng(py::module_& m) {
  py::class_<Rng>(m, "Rng",
                  "xoshiro256** seeded through splitmix64: the only source of randomness of the search, "
                  "identical on every platform; its state can be saved and restored (to_dict / from_dict).")
      .def(py::init<uint64_t>(), "seed"_a = 0, "A generator seeded with `seed`.")
      .def_static("stream", &Rng::Stream, "seed"_a, "stream"_a,
                  "Independent stream `stream` of `seed` (e.g. one per sub-space, so results do not depend on "
                  "thread count or order).")
      .def("seed", &Rng::Seed, "seed"_a, "Re-seed.")
      .def("next", &Rng::Next, "The next raw 64-bit value.")
      .def("below", &Rng::Below, "n"_a, "Uniform integer in [0, n), n > 0 (unbiased).")
      .def("uniform", &Rng::Uniform, "Uniform float in [0, 1) with 53 random bits.")
      .def("bernoulli", &Rng::Bernoulli, "p"_a, "True with probability p.")
      .def_property("state", &Rng::state, &Rng::set_state, "The four 64-bit words of the state.")
      .def("to_dict", [](const Rng& r) { return FromJson(r.ToJson()); },
           "{'algorithm': 'xoshiro256**', 'state': ['0x...', x4]}.")
      .def_static(
          "from_dict", [](const py::handle& d, const std::string& source) { return Rng::FromJson(ToJson(d), source); },
          "d"_a, "source"_a = "<dict>", "A generator from to_dict()'s output.")
      .def("copy", [](const Rng& r) { return Rng(r); }, "A copy with the same state.")
      .def("__copy__", [](const Rng& r) { return Rng(r); })
      .def("__deepcopy__", [](const Rng& r, const py::dict&) { return Rng(r); }, "memo"_a)
      .def("__eq__", [](const Rng& a, const Rng& b) { return a == b; })
      .def("__repr__", [](const Rng& r) { return "Rng(" + r.ToJson().dump() + ")"; })
      .def(py::pickle([](const Rng& r) { return py::make_tuple(r.state()); },
                      [](const py::tuple& t) {
                        Rng r;
                        r.set_state(py::cast<std::array<uint64_t, 4>>(t[0]));
                        return r;
                      }));
}

void RegisterGenes(py::module_& m) {
  py::class_<SubSpace>(m, "SubSpace", "One (width multiplier, input resolution) pair of a search space.")
      .def(py::init([](double width_mult, int resolution) { return SubSpace{width_mult, resolution}; }),
           "width_mult"_a, "resolution"_a)
      .def(py::init([](const py::tuple& t) {
             if (t.size() != 2) throw py::value_error("SubSpace: expected a (width_mult, resolution) tuple");
             return SubSpace{py::cast<double>(t[0]), py::cast<int>(t[1])};
           }),
           "wr"_a, "From a (width_mult, resolution) tuple.")
      .def_readwrite("width_mult", &SubSpace::width_mult, "Width multiplier W.")
      .def_readwrite("resolution", &SubSpace::resolution, "Input resolution R.")
      .def_property_readonly("label", &SubSpace::Label, "Stable label, e.g. 'w0.5-r160'.")
      .def("__eq__", [](const SubSpace& a, const SubSpace& b) { return a == b; })
      .def("__hash__", [](const SubSpace& s) { return py::hash(py::make_tuple(s.width_mult, s.resolution)); })
      .def("__iter__", [](const SubSpace& s) { return py::iter(py::make_tuple(s.width_mult, s.resolution)); })
      .def("__str__", &SubSpace::Label)
      .def("__repr__", &SubSpaceRepr)
      .def(py::pickle([](const SubSpace& s) { return py::make_tuple(s.width_mult, s.resolution); },
                      [](const py::tuple& t) { return SubSpace{py::cast<double>(t[0]), py::cast<int>(t[1])}; }));
  py::implicitly_convertible<py::tuple, SubSpace>();

  py::class_<Genes>(m, "Genes",
                    "A compact genome within a sub-space: one depth per stage, one kernel and one expand ratio "
                    "per block slot (0 for slots beyond the stage's depth). Values, not indices.")
      .def(py::init([](std::vector<int> depths, std::vector<int> kernels, std::vector<int> expands) {
             return Genes{std::move(depths), std::move(kernels), std::move(expands)};
           }),
           "depths"_a, "kernels"_a, "expands"_a)
      .def_readwrite("depths", &Genes::depths, "Depth per stage.")
      .def_readwrite("kernels", &Genes::kernels, "Depthwise kernel per slot (0: inactive).")
      .def_readwrite("expands", &Genes::expands, "Expand ratio per slot (0: inactive).")
      .def("to_dict", [](const Genes& g) { return FromJson(GenesToJson(g)); },
           "{'depths': [...], 'kernels': [...], 'expands': [...]}.")
      .def_static(
          "from_dict",
          [](const py::handle& d, const std::string& source) { return GenesFromJson(ToJson(d), source); }, "d"_a,
          "source"_a = "<dict>", "Genes from to_dict()'s output (structure only; see SearchSpace.validate_genes).")
      .def_property_readonly("hash64", &Genes::Hash, "64-bit FNV-1a hash of the values (for de-duplication).")
      .def("__eq__", [](const Genes& a, const Genes& b) { return a == b; })
      .def("__lt__", [](const Genes& a, const Genes& b) { return a < b; })
      .def("__hash__", [](const Genes& g) { return static_cast<py::ssize_t>(g.Hash()); })
      .def("__str__", &Genes::ToString)
      .def("__repr__", [](const Genes& g) { return "Genes(" + g.ToString() + ")"; })
      .def(py::pickle([](const Genes& g) { return py::make_tuple(g.depths, g.kernels, g.expands); },
                      [](const py::tuple& t) {
                        return Genes{py::cast<std::vector<int>>(t[0]), py::cast<std::vector<int>>(t[1]),
                                     py::cast<std::vector<int>>(t[2])};
                      }));
}

void RegisterSpace(py::module_& m) {
  py::class_<StageSpec>(m, "StageSpec", "One stage of a search space: width, stride and per-block choices.")
      .def_readonly("base_width", &StageSpec::base_width, "Output channels at W = 1.0.")
      .def_readonly("stride", &StageSpec::stride, "Stride of the stage's first block.")
      .def_readonly("depths", &StageSpec::depths, "Depth choices.")
      .def_readonly("kernel_sizes", &StageSpec::kernel_sizes, "Depthwise kernel choices.")
      .def_readonly("expand_ratios", &StageSpec::expand_ratios, "Expand ratio choices.")
      .def_property_readonly("max_depth", &StageSpec::max_depth, "Largest depth choice (= block slots).")
      .def("__repr__", [](const StageSpec& s) {
        return "StageSpec(base_width=" + std::to_string(s.base_width) + ", stride=" + std::to_string(s.stride) +
               ", max_depth=" + std::to_string(s.max_depth()) + ")";
      });

  py::class_<SearchSpace>(m, "SearchSpace",
                          "A TinyNAS search space (e.g. search_spaces/mcunet.json): MobileNetV2-style stages with "
                          "per-block kernel/expand and per-stage depth choices, over (W, R) sub-spaces. All "
                          "variation is deterministic given an Rng.")
      .def_static(
          "load", [](const py::handle& path) { return LoadSearchSpace(FsPath(path)); }, "path"_a,
          "Read and validate a space file. Raises FileNotFoundError or ValueError ('<file>: stages[2]...').")
      .def_static(
          "from_dict",
          [](const py::handle& d, const std::string& source) { return SearchSpaceFromJson(ToJson(d), source); },
          "d"_a, "source"_a = "<dict>", "A space from its JSON dict.")
      .def("to_dict", [](const SearchSpace& s) { return FromJson(SearchSpaceToJson(s)); }, "The space's JSON dict.")
      .def_readonly("name", &SearchSpace::name, "Space name.")
      .def_readonly("description", &SearchSpace::description, "Description.")
      .def_readonly("source", &SearchSpace::source, "File it was loaded from ('' if not from a file).")
      .def_readonly("in_channels", &SearchSpace::in_channels, "Input channels.")
      .def_readonly("num_classes", &SearchSpace::num_classes, "Classifier outputs.")
      .def_readonly("channel_divisor", &SearchSpace::channel_divisor, "Channel rounding divisor.")
      .def_readonly("width_multipliers", &SearchSpace::width_multipliers, "W choices.")
      .def_readonly("resolutions", &SearchSpace::resolutions, "R choices.")
      .def_readonly("stages", &SearchSpace::stages, "The stages.")
      .def_property_readonly("num_stages", &SearchSpace::num_stages, "Number of stages.")
      .def_property_readonly("num_slots", &SearchSpace::num_slots, "Block slots (genome length).")
      .def_property_readonly("num_subspaces", &SearchSpace::num_subspaces, "|W| x |R|.")
      .def("stage_first_slot", &SearchSpace::stage_first_slot, "stage"_a, "Index of the first slot of `stage`.")
      .def("subspaces", &SearchSpace::SubSpaces, "All (W, R) pairs, W-major in file order.")
      .def("width", &SearchSpace::Width, "base_width"_a, "width_mult"_a, "Channels of `base_width` at W.")
      .def("validate", &SearchSpace::Validate, "Raise ValueError naming the field if the space is inconsistent.")
      .def("validate_genes", &SearchSpace::ValidateGenes, "genes"_a,
           "Raise ValueError saying which gene is out of range.")
      .def("decode", &SearchSpace::Decode, "subspace"_a, "genes"_a,
           "The architecture of `genes` in `subspace` (a SubSpace or a (W, R) tuple), validated.")
      .def("encode", &SearchSpace::Encode, "subspace"_a, "arch"_a,
           "The genes of `arch` in `subspace`. Raises ValueError naming the first choice outside the space.")
      .def("match_subspace", &SearchSpace::MatchSubSpace, "arch"_a,
           "The first sub-space whose widths and resolution match `arch`, or None.")
      .def(
          "sample", [](const SearchSpace& s, Rng& rng) { return s.Sample(rng); }, "rng"_a,
          "Random genes (uniform over the choices), advancing `rng`.")
      .def(
          "sample", [](const SearchSpace& s, uint64_t seed) {
            Rng rng(seed);
            return s.Sample(rng);
          },
          "seed"_a, "Random genes from a fresh Rng(seed).")
      .def(
          "mutate", [](const SearchSpace& s, const Genes& g, double prob, Rng& rng) { return s.Mutate(g, prob, rng); },
          "genes"_a, "prob"_a, "rng"_a, "Each choice resampled with probability `prob`, advancing `rng`.")
      .def(
          "crossover", [](const SearchSpace& s, const Genes& a, const Genes& b, Rng& rng) {
            return s.Crossover(a, b, rng);
          },
          "a"_a, "b"_a, "rng"_a, "A child whose every gene comes from parent a or b (50/50), advancing `rng`.")
      .def("__repr__", [](const SearchSpace& s) {
        return "SearchSpace(name='" + s.name + "', stages=" + std::to_string(s.stages.size()) +
               ", subspaces=" + std::to_string(s.num_subspaces()) + ")";
      });

  m.def("make_divisible", &MakeDivisible, "v"_a, "divisor"_a, "min_value"_a = 0,
        "The original's channel rounding (once-for-all make_divisible).");
}

}  // namespace

void RegisterSearch(py::module_& m) {
  RegisterRng(m);
  RegisterGenes(m);
  RegisterSpace(m);
}

}  // namespace mcunet::python
