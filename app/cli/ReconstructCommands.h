#pragma once
// The CLI's reconstruction subcommands: `reconstruct` (a unit projected to the input), `saliency` (class
// saliency, Grad-CAM) and `sanity` (cascading-randomisation sanity check).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class ReconstructCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
