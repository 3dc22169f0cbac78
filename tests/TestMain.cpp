// Catch2 main for every Convscope test binary: the app's runtime policy (passive OpenMP waiting, allocator, all
// cores) and a Qt application on the offscreen platform, so no display is needed. GUI tests (built with
// CONVSCOPE_TEST_WIDGETS) get a QApplication in the app's style; the others a QGuiApplication for text rendering.
#define CATCH_CONFIG_RUNNER
#include "CatchTorch.h"

#include "common/RuntimePolicy.h"

#ifdef CONVSCOPE_TEST_WIDGETS
#include "widgets/AppStyle.h"
#include <QApplication>
#else
#include <QGuiApplication>
#endif

#include <cstdlib>

int main(int argc, char **argv)
{
    convscope::RuntimePolicy::init(argv);
    convscope::RuntimePolicy::ensureRuntimeDir();
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
    int qtArgc = 1;
#ifdef CONVSCOPE_TEST_WIDGETS
    QApplication app(qtArgc, argv);
    convscope::AppStyle::apply(app); // screenshots show the app as users see it
#else
    QGuiApplication app(qtArgc, argv);
#endif
    return Catch::Session().run(argc, argv);
}
