// Entry point: the headless CLI when the first argument is a command, otherwise the desktop app.
#include "cli/Cli.h"
#include "gui/GuiApp.h"
#include "common/RuntimePolicy.h"

#include <QStringList>

int main(int argc, char **argv)
{
    convscope::RuntimePolicy::init(argv);
    QStringList args;
    for (int i = 1; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    if (convscope::Cli::handles(args))
        return convscope::Cli::run(argc, argv);
    return convscope::GuiApp::run(argc, argv);
}
