#pragma once
// The headless command line: `convscope COMMAND ...`. Runs without a display (a QGuiApplication on the offscreen
// platform is created for text rendering) and returns before any window exists.
#include <QStringList>

namespace convscope {

class Cli {
public:
    /// True when `args` (without the program name) start with a CLI command, a help/version flag, or anything
    /// else that is not an existing file (which then gets the usage text); false for the GUI's `MODEL [DATASET]`.
    static bool handles(const QStringList &args);
    /// Runs the command; returns the process exit code. All convscope::Error exceptions are caught here and
    /// printed as one line "convscope: <message>".
    static int run(int argc, char **argv);
};

} // namespace convscope
