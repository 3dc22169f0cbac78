#pragma once
// The CLI's architecture comparison: `compare` (several models on one labelled dataset — parameters, multiply-adds,
// accuracy, speed, memory, receptive field, where the multiply-adds go — and the accuracy-against-operations chart).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class CompareCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
