#include "cli/Cli.h"

#include "cli/CliCommands.h"
#include "common/Error.h"
#include "common/RuntimePolicy.h"

#include <QFileInfo>
#include <QGuiApplication>

#include <cstdio>
#include <cstdlib>

namespace convscope {

namespace {

const CliCommand *findCommand(const QString &name)
{
    for (const CliCommand &c : CliCommands::all())
        if (name == c.name)
            return &c;
    return nullptr;
}

void printUsage()
{
    std::printf("usage: convscope [MODEL [DATASET]]          open the app\n"
                "       convscope COMMAND [options] ...       headless\n\ncommands:\n");
    for (const CliCommand &c : CliCommands::all())
        std::printf("  %-12s %s\n", c.name, c.summary);
    std::printf("\n`convscope COMMAND --help` describes each command.\n");
}

} // namespace

bool Cli::handles(const QStringList &args)
{
    if (args.isEmpty())
        return false;
    const QString &first = args.first();
    if (first == "--screenshot" || first == "--tab" || first == "--scan")
        return false; // GUI options
    // Anything that is neither a command nor an existing file (the GUI's MODEL argument) gets the usage text.
    return findCommand(first) || !QFileInfo::exists(first);
}

int Cli::run(int argc, char **argv)
{
    // Text in exported images needs a QGuiApplication; the offscreen platform needs no display.
    if (!std::getenv("QT_QPA_PLATFORM"))
        setenv("QT_QPA_PLATFORM", "offscreen", 1);
    RuntimePolicy::ensureRuntimeDir();
    QGuiApplication app(argc, argv);
    QGuiApplication::setApplicationName("convscope");
    QStringList args = QGuiApplication::arguments().mid(1);
    const QString name = args.value(0);
    if (name == "--version") {
        std::printf("convscope %s\n", CONVSCOPE_VERSION);
        return 0;
    }
    const CliCommand *command = findCommand(name);
    if (!command) {
        printUsage();
        if (name == "--help" || name == "-h" || name == "help")
            return 0;
        std::fprintf(stderr, "convscope: '%s' is neither a command nor a model file\n", qPrintable(name));
        return 2;
    }
    try {
        return command->run(args);
    } catch (const Error &e) {
        std::fprintf(stderr, "convscope %s: %s\n", command->name, e.what());
        return e.exitCode();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "convscope %s: unexpected error: %s\n", command->name, e.what());
        return 1;
    }
}

} // namespace convscope
