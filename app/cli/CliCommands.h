#pragma once
// The CLI's subcommands: each parses its own options and calls core/viz.
#include <QStringList>

#include <vector>

namespace convscope {

struct CliCommand {
    const char *name;
    const char *summary;
    int (*run)(const QStringList &args); ///< args[0] is the command name
};

class CliCommands {
public:
    static const std::vector<CliCommand> &all();
};

} // namespace convscope
