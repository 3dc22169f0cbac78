#pragma once
// The CLI's feature-evolution subcommand: `evolution` (checkpoints scanned against one dataset; stability per layer,
// units × checkpoints figure, chart and CSV).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class EvolutionCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
