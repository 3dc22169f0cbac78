#pragma once
// Shared helpers of the GUI tests (offscreen windows; screenshots kept in the build tree as artifacts).
#include "CatchTorch.h"
#include "TestPaths.h"

#include "gui/MainWindow.h"
#include "panels/UnitsPanel.h"

#include <QDir>
#include <QSettings>
#include <QTemporaryDir>
#include <QImage>
#include <QSize>
#include <QString>
#include <QWidget>

#include <memory>
#include <set>

namespace guitest {

inline QString demo() { return QString::fromStdString(testpaths::demoModel()); }
inline QString testImage(int i)
{
    return QString::fromStdString(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz#" + std::to_string(i));
}

/// Fraction of distinct colours, to tell a drawn grid from a blank one.
inline size_t colours(const QImage &img)
{
    std::set<QRgb> c;
    for (int y = 0; y < img.height(); y += 2)
        for (int x = 0; x < img.width(); x += 2)
            c.insert(img.pixel(x, y));
    return c.size();
}

inline void saveArtifact(QWidget &w, const QString &name)
{
    const QString dir = QString::fromStdString(testpaths::fixtures()) + "/../test-artifacts";
    QDir().mkpath(dir);
    REQUIRE(w.grab().save(dir + "/" + name));
}

/// Shows `window` at `size`, opens `model` (and `dataset`) and waits until everything is loaded.
template <class Window>
void openAndSettle(Window &window, const QString &model, const QString &dataset = {}, QSize size = {1400, 900})
{
    window.resize(size);
    window.show();
    window.open(model, dataset);
    window.waitUntilSettled(30000);
}

/// The demo with its dataset scanned from the Units tab, in a private data folder (the test set is
/// system-installed, so its project goes under XDG_DATA_HOME).
struct ScannedDemo {
    QTemporaryDir dir;
    QSettings settings{dir.filePath("settings.ini"), QSettings::IniFormat};
    std::unique_ptr<convscope::MainWindow> window;
    ScannedDemo()
    {
        qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8());
        window = std::make_unique<convscope::MainWindow>(&settings);
        openAndSettle(*window, demo());
        window->units()->startScan();
        window->waitUntilSettled(300000);
        window->units()->waitForIdle();
        window->waitUntilSettled(30000);
    }
    ~ScannedDemo()
    {
        window.reset();
        qunsetenv("XDG_DATA_HOME");
    }
};

} // namespace guitest
