#pragma once
// The CLI's similar-image search subcommands: `index` (build a descriptor index in a project), `search` (query
// images or regions) and `eval-retrieval` (which layer × descriptor × PCA size retrieves best).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class SearchCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
