#pragma once
// The CLI's dataset-scan subcommands: `scan` (top-k per channel into a project, resumable; the whole dataset, one
// shard, or an MPI job), `merge` (a scan's shards into one project) and `top` (posters and contact sheets of a
// scanned layer, with reconstructions on request).
#include "cli/CliCommands.h"

#include <vector>

namespace convscope {

class ScanCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
