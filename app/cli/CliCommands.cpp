#include "cli/CliCommands.h"

#include "cli/AdaptCommands.h"
#include "cli/CompareCommands.h"
#include "cli/EvolutionCommands.h"
#include "cli/MapCommands.h"
#include "cli/ModelCommands.h"
#include "cli/ProbeCommands.h"
#include "cli/ReconstructCommands.h"
#include "cli/ScanCommands.h"
#include "cli/SearchCommands.h"
#include "cli/SynthesisCommands.h"

namespace convscope {

const std::vector<CliCommand> &CliCommands::all()
{
    // The order of `convscope --help`: the model, then the dataset scan, reconstructions, synthesis, evolution across
    // checkpoints, search, adaptation, probes, the comparison of models and the map.
    static const std::vector<CliCommand> commands = [] {
        std::vector<CliCommand> list;
        for (const auto *group : {&ModelCommands::all(), &ScanCommands::all(), &ReconstructCommands::all(),
                                  &SynthesisCommands::all(), &EvolutionCommands::all(), &SearchCommands::all(),
                                  &AdaptCommands::all(),
                                  &ProbeCommands::all(), &CompareCommands::all(), &MapCommands::all()})
            list.insert(list.end(), group->begin(), group->end());
        return list;
    }();
    return commands;
}

} // namespace convscope
