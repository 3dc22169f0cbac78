#pragma once
// The CLI's descriptor adaptation: `adapt` (train a projection head with a triplet or contrastive loss on a
// project's stored features; before/after retrieval, compression table, adapted model and index).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class AdaptCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
