#pragma once
// The CLI's synthesis subcommand: `synthesize` (images optimised to excite units of a layer or class scores).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class SynthesisCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
