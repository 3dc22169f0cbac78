#pragma once
// The CLI's dataset-map subcommands: `map` (t-SNE or UMAP of a layer's features; coordinates, a thumbnail poster, a
// projector bundle) and `embed` (t-SNE or UMAP of any feature matrix in a .npy file).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class MapCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
