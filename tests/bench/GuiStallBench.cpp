// Does the window ever stall? A 10 ms timer on the GUI thread records the longest gap between its ticks while
// each long operation runs in the real MainWindow (offscreen): opening a ResNet-50, scanning all 70,000
// Fashion-MNIST images, the Units tab on ResNet-50's 2048-unit layer4.2, projecting a layer (deconvnet), building
// a search index, "which layer describes best", a t-SNE and a UMAP of the 70,000 images, exporting a map poster.
// Then each operation is started again and the window is closed 0.5 s into it: the time close + destruction take
// on the GUI thread is that operation's closing stall (closing cancels the work instead of waiting for it).
// Goal: no gap over 100 ms. The baseline in the same run is the timer's own tick on an idle window. Also printed:
// the process's peak resident memory during each operation (the Units tab on layer4.2: goal under 2 GB).
//
// Usage: GuiStallBench [--quick] [--only NAME[,NAME…]]
//   --quick uses the 10,000 Fashion-MNIST test images instead of all 70,000 (minutes instead of a quarter hour).
// Needs the test fixtures (ctest's fixtures.* steps) for the ResNet-50; runs offscreen by itself.
#include "common/RuntimePolicy.h"
#include "gui/MainWindow.h"
#include "jobs/Workspace.h"
#include "panels/MapPanel.h"
#include "panels/SearchPanel.h"
#include "panels/UnitsPanel.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QImage>
#include <QLabel>
#include <QElapsedTimer>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using namespace convscope;

namespace {

/// The longest gap between ticks of a 10 ms timer on the GUI thread since start().
class StallMeter {
public:
    StallMeter()
    {
        timer_.setInterval(10);
        timer_.setTimerType(Qt::PreciseTimer);
        QObject::connect(&timer_, &QTimer::timeout, [this] {
            const qint64 now = clock_.nsecsElapsed();
            worst_ = std::max(worst_, now - last_);
            last_ = now;
        });
    }
    void start()
    {
        clock_.start();
        last_ = 0;
        worst_ = 0;
        timer_.start();
    }
    double stopMs()
    {
        timer_.stop();
        const qint64 now = clock_.nsecsElapsed();
        return static_cast<double>(std::max(worst_, now - last_)) / 1e6;
    }

private:
    QTimer timer_;
    QElapsedTimer clock_;
    qint64 last_ = 0, worst_ = 0;
};

bool busy(MainWindow &w)
{
    return w.workspace()->busy() || w.units()->busy() || w.search()->busy() || w.map()->busy();
}

/// Runs the event loop in small slices (never blocking it) until the window has no work left.
void settle(MainWindow &w, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    int quiet = 0;
    while (clock.elapsed() < timeoutMs && quiet < 20) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        quiet = busy(w) ? 0 : quiet + 1;
    }
}

void spin(int ms)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
}

std::string fixtures() { return CONVSCOPE_FIXTURE_DIR; }

/// A memory figure of this process in MB from /proc/self/status: "VmHWM:" (peak since the last resetPeak()) or
/// "VmRSS:" (now).
double megabytes(const std::string &field)
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(field, 0) == 0)
            return std::stod(line.substr(field.size())) / 1024.0;
    return -1;
}

void resetPeak()
{
    std::ofstream("/proc/self/clear_refs") << "5";
}

/// The entry of a layer box showing the layer `path` ("path" or "name (path)").
int layerEntry(QComboBox *box, const QString &path)
{
    for (int i = 0; i < box->count(); ++i)
        if (box->itemText(i) == path || box->itemText(i).endsWith("(" + path + ")"))
            return i;
    std::fprintf(stderr, "no layer %s in the scan\n", qPrintable(path));
    return -1;
}

struct Operation {
    std::string name;
    QString model, dataset;
    std::function<void(MainWindow &)> prepare; ///< after opening, before the measurement (not measured)
    std::function<void(MainWindow &)> start;   ///< starts the long operation
    std::function<QString(MainWindow &)> outcome; ///< what the window says when it is done (printed, to check)
};

struct Result {
    std::string name;
    double seconds = 0, gapMs = 0, closeMs = 0, startMb = 0, peakMb = 0;
    QString outcome;
};

std::unique_ptr<MainWindow> openWindow(QSettings *settings, const Operation &op, bool measureOpen)
{
    auto w = std::make_unique<MainWindow>(settings);
    w->resize(1400, 900);
    w->show();
    if (!measureOpen) {
        w->open(op.model, op.dataset);
        settle(*w, 600000);
        if (op.prepare)
            op.prepare(*w);
        settle(*w, 3600000);
    }
    return w;
}

Result measure(QSettings *settings, const Operation &op)
{
    Result r;
    r.name = op.name;
    const bool isOpen = !op.start;
    auto w = openWindow(settings, op, isOpen);
    StallMeter meter;
    QElapsedTimer clock;
    resetPeak();
    r.startMb = megabytes("VmRSS:");
    meter.start();
    clock.start();
    if (isOpen)
        w->open(op.model, op.dataset);
    else
        op.start(*w);
    settle(*w, 3600000);
    r.seconds = static_cast<double>(clock.elapsed()) / 1000.0;
    r.gapMs = meter.stopMs();
    r.peakMb = megabytes("VmHWM:");
    if (op.outcome)
        r.outcome = op.outcome(*w).simplified();
    // Again, and close the window half a second in.
    if (!isOpen) {
        w.reset();
        w = openWindow(settings, op, false);
    }
    if (isOpen)
        w->open(op.model, op.dataset);
    else
        op.start(*w);
    spin(500);
    meter.start();
    w->close();
    w.reset();
    r.closeMs = meter.stopMs();
    spin(50);
    return r;
}

std::vector<Operation> operations(bool quick)
{
    const QString resnet50 = QString::fromStdString(fixtures() + "/wide/resnet50.pt");
    const QString photos = "/usr/lib/python3/dist-packages/skimage/data";
    const QString demo = CONVSCOPE_SOURCE_DIR "/resources/demo/fashion_cnn.pt";
    const QString fashion = quick ? "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
                                  : "/usr/share/datasets/fashion-mnist";
    const auto scanned = [](MainWindow &w) { // the scan is stored: later windows reuse it at once
        w.units()->startScan();
        settle(w, 3600000);
    };
    const auto layer42 = [scanned](MainWindow &w) {
        scanned(w);
        w.showTab("units");
        w.units()->layerBox()->setCurrentIndex(-1);
    };
    const auto mapTab = [scanned](int method) { // 0 = t-SNE, 1 = UMAP
        return [scanned, method](MainWindow &w) {
            scanned(w);
            w.showTab("map");
            w.map()->methodBox()->setCurrentIndex(method);
        };
    };
    const auto unitsSay = [](MainWindow &w) { return w.units()->statusLabel()->text(); };
    const auto searchSays = [](MainWindow &w) { return w.search()->status()->text(); };
    const auto mapSays = [](MainWindow &w) { return w.map()->status()->text(); };
    return {
        {"open ResNet-50", resnet50, photos, {}, {},
         [](MainWindow &w) { return QString("%1 layers").arg(w.workspace()->model()->layers().size()); }},
        {"scan the dataset", demo, fashion, {}, [](MainWindow &w) { w.units()->startScan(); }, unitsSay},
        {"Units tab on ResNet-50 layer4.2", resnet50, photos, layer42,
         [](MainWindow &w) { w.units()->layerBox()->setCurrentIndex(layerEntry(w.units()->layerBox(), "layer4.2")); },
         unitsSay},
        {"project a layer (deconvnet)", demo, fashion,
         [scanned](MainWindow &w) {
             scanned(w);
             w.showTab("units");
             w.units()->layerBox()->setCurrentIndex(layerEntry(w.units()->layerBox(), "features.conv3"));
         },
         [](MainWindow &w) { w.units()->projectionBox()->setCurrentIndex(1); },
         [](MainWindow &w) { return QString(w.units()->layerProjected() ? "projected" : "NOT projected"); }},
        {"build a search index", demo, fashion,
         [scanned](MainWindow &w) {
             scanned(w);
             w.showTab("search");
             w.search()->layerBox()->setCurrentText("classifier.fc1");
             w.search()->descriptorBox()->setCurrentText("fc");
         },
         [](MainWindow &w) { w.search()->buildIndex(); }, searchSays},
        {"which layer describes best", demo, fashion,
         [scanned](MainWindow &w) {
             scanned(w);
             w.showTab("search");
         },
         [](MainWindow &w) { w.search()->evaluate(); }, searchSays},
        {"t-SNE map", demo, fashion, mapTab(0), [](MainWindow &w) { w.map()->startMap(); }, mapSays},
        {"UMAP map", demo, fashion, mapTab(1), [](MainWindow &w) { w.map()->startMap(); }, mapSays},
        {"export a map poster", demo, fashion,
         [mapTab](MainWindow &w) {
             mapTab(1)(w);
             w.map()->startMap();
             settle(w, 3600000);
         },
         [](MainWindow &w) { w.map()->exportTo(QDir::temp().filePath("convscope-stall-poster.png"), 4000); },
         [](MainWindow &) {
             return QString("poster %1 px wide").arg(QImage(QDir::temp().filePath("convscope-stall-poster.png")).width());
         }},
    };
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    RuntimePolicy::init(argv); // the app's threads and allocator
    QApplication app(argc, argv);
    const QStringList args = app.arguments();
    const bool quick = args.contains("--quick");
    QStringList only;
    if (const int at = static_cast<int>(args.indexOf("--only")); at >= 0 && at + 1 < args.size())
        only = args[at + 1].split(',');
    QTemporaryDir dir;
    qputenv("XDG_DATA_HOME", dir.filePath("data").toUtf8()); // projects of system-installed datasets go here
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);

    StallMeter idle;
    idle.start();
    spin(1000);
    const double baseline = idle.stopMs();
    std::printf("GUI stall benchmark (%s); baseline: longest tick gap on an idle window %.1f ms; goal <= 100 ms\n",
                quick ? "10,000 images" : "70,000 images", baseline);
    std::printf("%-32s %9s %14s %14s %18s\n", "operation", "seconds", "longest gap", "close midway", "MB at start, peak");
    bool ok = true;
    for (const auto &op : operations(quick)) {
        if (!only.isEmpty() && !only.contains(QString::fromStdString(op.name)))
            continue;
        const Result r = measure(&settings, op);
        const bool good = r.gapMs <= 100 && r.closeMs <= 100;
        ok = ok && good;
        std::printf("%-32s %9.1f %11.0f ms %11.0f ms %8.0f, %5.0f%s\n", r.name.c_str(), r.seconds, r.gapMs,
                    r.closeMs, r.startMb, r.peakMb, good ? "" : "   over 100 ms");
        std::printf("    %s\n", qPrintable(r.outcome.left(150)));
        std::fflush(stdout);
    }
    return ok ? 0 : 1;
}
