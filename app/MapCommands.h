#pragma once
// The CLI's dataset-map subcommand: `map` (t-SNE of a layer's features; coordinates and a thumbnail poster).
#include "CliCommands.h"

#include <vector>

namespace convscope {

class MapCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
