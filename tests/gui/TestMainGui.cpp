// Catch2 main for GUI tests: a QApplication on the offscreen platform (no display needed).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "AppStyle.h"
#include "RuntimePolicy.h"

#include <QApplication>

#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    convscope::RuntimePolicy::init(argv);
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
    if (!std::getenv("XDG_RUNTIME_DIR")) {
        const std::string dir = "/tmp/convscope-runtime-" + std::to_string(getuid());
        mkdir(dir.c_str(), 0700);
        setenv("XDG_RUNTIME_DIR", dir.c_str(), 1);
    }
    int qtArgc = 1;
    QApplication app(qtArgc, argv);
    convscope::AppStyle::apply(app); // screenshots show the app as users see it
    return Catch::Session().run(argc, argv);
}
