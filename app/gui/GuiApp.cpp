#include "gui/GuiApp.h"

#include "widgets/AppStyle.h"
#include "gui/MainWindow.h"
#include "jobs/JobLane.h"
#include "panels/UnitsPanel.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QTimer>

#include <cstdio>
#include <cstdlib>

namespace convscope {

namespace {

QString demoModel()
{
    // The installed demo first (a package), then the source tree's (a build).
    const QStringList candidates = {
        QCoreApplication::applicationDirPath() + "/../share/convscope/demo/fashion_cnn.pt",
        QString(CONVSCOPE_SOURCE_DEMO) + "/fashion_cnn.pt"};
    for (const QString &c : candidates)
        if (QFileInfo::exists(c))
            return QFileInfo(c).absoluteFilePath();
    return {};
}

} // namespace

int GuiApp::run(int argc, char **argv)
{
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") && !std::getenv("QT_QPA_PLATFORM")) {
        std::fprintf(stderr, "convscope: no display to open the window on. Headless commands: convscope --help\n");
        return 2;
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName("convscope");
    QApplication::setOrganizationName("convscope");
    QApplication::setApplicationVersion(CONVSCOPE_VERSION);
    QApplication::setWindowIcon(QIcon(":/convscope.svg"));
    AppStyle::apply(app);
    QSettings settings;
    MainWindow window(&settings);
    QStringList args = QApplication::arguments().mid(1);
    QString screenshot; // --screenshot FILE: save the window once everything is loaded, then quit
    if (const int at = args.indexOf("--screenshot"); at >= 0 && at + 1 < args.size()) {
        screenshot = args[at + 1];
        args.remove(at, 2);
    }
    QString tab; // --tab NAME: show this centre tab
    if (const int at = args.indexOf("--tab"); at >= 0 && at + 1 < args.size()) {
        tab = args[at + 1];
        args.remove(at, 2);
    }
    const bool scan = args.removeAll("--scan") > 0; // --scan: scan the dataset once loaded
    if (!args.isEmpty()) {
        window.open(QFileInfo(args[0]).absoluteFilePath(), args.size() > 1 ? QFileInfo(args[1]).absoluteFilePath() : QString());
    } else if (!window.restoreSession()) {
        const QString demo = demoModel();
        if (!demo.isEmpty())
            window.open(demo);
    }
    window.show();
    if (!tab.isEmpty())
        window.showTab(tab);
    if (scan && screenshot.isEmpty())
        QTimer::singleShot(0, &window, [&window] {
            window.waitUntilSettled(30000);
            window.units()->startScan();
        });
    // The first start shows the getting-started guide (not for screenshots or a scan asked on the command line).
    if (screenshot.isEmpty() && !scan && window.guideWanted())
        QTimer::singleShot(0, &window, [&window] { window.showGuide(); });
    if (!screenshot.isEmpty())
        QTimer::singleShot(0, &window, [&window, screenshot, scan] {
            window.waitUntilSettled(30000);
            if (scan) {
                window.units()->startScan();
                window.waitUntilSettled(600000);
            }
            const bool ok = window.grab().save(screenshot);
            std::fprintf(stderr, ok ? "wrote %s\n" : "cannot write %s\n", qPrintable(screenshot));
            QApplication::exit(ok ? 0 : 3);
        });
    const int status = app.exec();
    JobLane::pool()->waitForDone(); // work the closed window left running (a model load) ends before exit
    return status;
}

} // namespace convscope
