#pragma once
// The CLI's linear-probe subcommand: `probe` (which layer classifies best — a linear classifier per layer on the
// project's stored features, DeCAF's table).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class ProbeCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
