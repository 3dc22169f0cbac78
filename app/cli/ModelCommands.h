#pragma once
// The CLI's model subcommands: `info` (layer table), `predict`, `evaluate` (accuracy), `filters` (weights as a
// grid) and `activations` (one image's maps).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class ModelCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
