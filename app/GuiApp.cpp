#include "GuiApp.h"

#include "MainWindow.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QStyleFactory>
#include <QTimer>

#include <cstdio>
#include <cstdlib>

namespace convscope {

namespace {

QString demoModel()
{
    const QStringList candidates = {
        QString(CONVSCOPE_SOURCE_DEMO) + "/fashion_cnn.pt",
        QCoreApplication::applicationDirPath() + "/../share/convscope/demo/fashion_cnn.pt"};
    for (const QString &c : candidates)
        if (QFileInfo::exists(c))
            return QFileInfo(c).absoluteFilePath();
    return {};
}

void applyDarkPalette(QApplication &app)
{
    app.setStyle(QStyleFactory::create("Fusion"));
    QPalette p;
    const QColor window(45, 46, 50), base(32, 33, 36), text(232, 234, 237), accent(38, 130, 142);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(40, 41, 45));
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::Highlight, accent);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Dark, QColor(24, 25, 27));
    p.setColor(QPalette::PlaceholderText, QColor(150, 150, 150));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(120, 120, 120));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(120, 120, 120));
    app.setPalette(p);
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
    QApplication::setWindowIcon(QIcon(":/convscope.svg"));
    applyDarkPalette(app);
    QSettings settings;
    MainWindow window(&settings);
    QStringList args = QApplication::arguments().mid(1);
    QString screenshot; // --screenshot FILE: save the window once everything is loaded, then quit
    if (const int at = args.indexOf("--screenshot"); at >= 0 && at + 1 < args.size()) {
        screenshot = args[at + 1];
        args.remove(at, 2);
    }
    if (!args.isEmpty()) {
        window.open(QFileInfo(args[0]).absoluteFilePath(), args.size() > 1 ? QFileInfo(args[1]).absoluteFilePath() : QString());
    } else if (!window.restoreSession()) {
        const QString demo = demoModel();
        if (!demo.isEmpty())
            window.open(demo);
    }
    window.show();
    if (!screenshot.isEmpty())
        QTimer::singleShot(0, &window, [&window, screenshot] {
            window.waitUntilSettled(30000);
            const bool ok = window.grab().save(screenshot);
            std::fprintf(stderr, ok ? "wrote %s\n" : "cannot write %s\n", qPrintable(screenshot));
            QApplication::exit(ok ? 0 : 3);
        });
    return app.exec();
}

} // namespace convscope
