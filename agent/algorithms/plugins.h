// The plug-ins' entry points, for the registry table (registry.cc) only: one factory
// per algorithm file, and the options the file declares. Nothing else includes this.
#pragma once

#include <memory>
#include <span>

#include "agent/algorithms/option.h"

namespace grapevine::agent::algorithms {

class Algorithm;

std::unique_ptr<Algorithm> MakeDimat(const OptionValues& options);  // dimat.cc
std::span<const OptionSpec> DimatOptions();
std::unique_ptr<Algorithm> MakeWa(const OptionValues& options);     // wa.cc
std::unique_ptr<Algorithm> MakeWm(const OptionValues& options);     // wm.cc
std::unique_ptr<Algorithm> MakeDpsgd(const OptionValues& options);  // dpsgd.cc
std::span<const OptionSpec> DpsgdOptions();
std::unique_ptr<Algorithm> MakeCdsgd(const OptionValues& options);  // cdsgd.cc
std::unique_ptr<Algorithm> MakeCga(const OptionValues& options);    // cga.cc
std::span<const OptionSpec> CgaOptions();
std::unique_ptr<Algorithm> MakeLasgd(const OptionValues& options);  // lasgd.cc
std::span<const OptionSpec> LasgdOptions();
std::unique_ptr<Algorithm> MakeLocal(const OptionValues& options);  // local.cc
std::unique_ptr<Algorithm> MakeSgp(const OptionValues& options);    // sgp.cc
std::span<const OptionSpec> SgpOptions();
std::unique_ptr<Algorithm> MakeChoco(const OptionValues& options);  // choco.cc
std::span<const OptionSpec> ChocoOptions();
std::unique_ptr<Algorithm> MakeEfficientAdam(const OptionValues& options);  // efficient_adam.cc
std::span<const OptionSpec> EfficientAdamOptions();
std::unique_ptr<Algorithm> MakeDaso(const OptionValues& options);  // daso.cc
std::span<const OptionSpec> DasoOptions();

}  // namespace grapevine::agent::algorithms
