// Uses the installed mcunet C++ API to cost a zoo model.
#include <cstdio>

#include "mcunet/arch.h"
#include "mcunet/board.h"
#include "mcunet/cost_model.h"

int main(int argc, char** argv) {
  if (argc != 2) return 64;
  const mcunet::Arch arch = mcunet::LoadArch(argv[1]);
  const mcunet::CostReport r = mcunet::EvaluateCost(arch, "tinyengine");
  const mcunet::FitResult fit = mcunet::Fits(r, mcunet::FindBoard("stm32f746"));
  std::printf("macs=%lld peak_sram=%lld %s\n", static_cast<long long>(r.counts.macs),
              static_cast<long long>(r.peak_sram_bytes()), fit.message.c_str());
  return r.counts.macs > 0 ? 0 : 1;
}
