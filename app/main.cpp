// Entry point. Every invocation goes through the CLI for now (usage when no command is given); the desktop window
// will take the no-command case.
#include "Cli.h"
#include "RuntimePolicy.h"

int main(int argc, char **argv)
{
    convscope::RuntimePolicy::init(argv);
    return convscope::Cli::run(argc, argv);
}
