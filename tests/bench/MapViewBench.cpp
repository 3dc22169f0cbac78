// Frame times of the dataset map view (goal: under 16 ms per frame while panning and zooming 70,000 thumbnails, and
// a million points usable). Renders MapView offscreen, as paintEvent does on screen, while panning across the map
// at several zoom levels: zoomed out (dots), at the level where thumbnails appear, and further in.
// Points: all 70,000 Fashion-MNIST images (train + test) as thumbnails, placed at the map's positions when a
// `MapBench` UMAP run left them (else on Gaussian blobs); then 1,000,000 points (blobs, thumbnails repeated).
// Baseline in the same run: the same dots drawn with one QPainter::fillRect per point (the view's earlier way).
//
// Usage: MapViewBench [--coords pixels_convscope-umap.npy]
#include "data/ImageSource.h"
#include "render/MapPosterRenderer.h"
#include "widgets/MapView.h"
#include "common/NpyFile.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QMouseEvent>
#include <QPainter>

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

using namespace convscope;

namespace {

struct Stats {
    double median = 0, worst = 0;
    int thumbnails = 0;
};

Stats stats(std::vector<double> ms, int thumbnails)
{
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms.back(), thumbnails};
}

/// Pans across the view in `frames` steps at the current zoom, rendering each frame; paint times from the view.
Stats pan(MapView &view, QImage &target, int frames)
{
    std::vector<double> ms;
    int thumbs = 0;
    for (int f = 0; f < frames; ++f) {
        const double angle = 6.2831853 * f / frames;
        QMouseEvent press(QEvent::MouseButtonPress, QPointF(700, 450), QPointF(700, 450), Qt::LeftButton,
                          Qt::LeftButton, Qt::NoModifier);
        QMouseEvent move(QEvent::MouseMove, QPointF(700 + 40 * std::cos(angle), 450 + 40 * std::sin(angle)),
                         QPointF(700, 450), Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
        QMouseEvent release(QEvent::MouseButtonRelease, QPointF(700, 450), QPointF(700, 450), Qt::LeftButton,
                            Qt::NoButton, Qt::NoModifier);
        QApplication::sendEvent(&view, &press);
        QApplication::sendEvent(&view, &move);
        QApplication::sendEvent(&view, &release);
        view.render(&target);
        ms.push_back(view.lastPaintMs());
        thumbs = std::max(thumbs, view.lastThumbnails());
    }
    return stats(ms, thumbs);
}

/// The baseline: one fillRect per point, as the view drew dots before.
double naiveDots(const std::vector<double> &x, const std::vector<double> &y, const std::vector<QColor> &colours,
                 double scale, double ox, double oy, QImage &target)
{
    QElapsedTimer clock;
    clock.start();
    QPainter p(&target);
    p.fillRect(target.rect(), QColor(24, 25, 28));
    const QRectF visible(target.rect());
    for (size_t i = 0; i < x.size(); ++i) {
        const QPointF s(x[i] * scale + ox, y[i] * scale + oy);
        if (visible.contains(s))
            p.fillRect(QRectF(s.x() - 1.5, s.y() - 1.5, 3, 3), colours[i]);
    }
    return static_cast<double>(clock.nsecsElapsed()) / 1e6;
}

torch::Tensor blobs(std::int64_t n, std::vector<int> &labels)
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
    const torch::Tensor centres = 25 * torch::randn({10, 2}, gen);
    const torch::Tensor which = torch::randint(10, {n}, gen);
    labels.resize(static_cast<size_t>(n));
    const auto *w = which.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i)
        labels[static_cast<size_t>(i)] = static_cast<int>(w[i]);
    return centres.index_select(0, which) + 6 * torch::randn({n, 2}, gen);
}

void report(const char *what, const Stats &s)
{
    std::printf("  %-34s median %7.2f ms   worst %7.2f ms   thumbnails drawn %6d   %s\n", what, s.median, s.worst,
                s.thumbnails, s.median < 16 ? "< 16 ms" : "OVER 16 ms");
}

void run(const char *title, const torch::Tensor &coords, const std::vector<int> &labels, std::vector<QImage> thumbs)
{
    std::printf("%s: %lld points\n", title, static_cast<long long>(coords.size(0)));
    MapView view;
    view.resize(1400, 900);
    view.setAttribute(Qt::WA_DontShowOnScreen);
    view.show();
    std::vector<QColor> colours;
    std::vector<QString> captions;
    for (int l : labels)
        colours.push_back(MapPosterRenderer::classColour(l));
    captions.resize(labels.size());
    view.setCoordinates(coords);
    view.setPoints(colours, captions, std::move(thumbs));
    view.fit();
    QImage target(view.size(), QImage::Format_ARGB32_Premultiplied);
    report("zoomed out (dots)", pan(view, target, 40));
    // Baseline dots at the same fit.
    const torch::Tensor c = coords.to(torch::kFloat64).contiguous();
    std::vector<double> x(static_cast<size_t>(c.size(0))), y(x.size());
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = c[static_cast<std::int64_t>(i)][0].item<double>(), y[i] = c[static_cast<std::int64_t>(i)][1].item<double>();
    const double span = std::max((c.select(1, 0).max() - c.select(1, 0).min()).item<double>(),
                                 (c.select(1, 1).max() - c.select(1, 1).min()).item<double>());
    const double scale = (900 - 48) / span;
    const double ox = 700 - (c.select(1, 0).max() + c.select(1, 0).min()).item<double>() / 2 * scale;
    const double oy = 450 - (c.select(1, 1).max() + c.select(1, 1).min()).item<double>() / 2 * scale;
    std::vector<double> base;
    for (int f = 0; f < 10; ++f)
        base.push_back(naiveDots(x, y, colours, scale, ox, oy, target));
    const Stats b = stats(base, 0);
    std::printf("  %-34s median %7.2f ms   (fillRect per point; the view is %.1fx faster)\n", "baseline dots", b.median,
                b.median / std::max(1e-3, pan(view, target, 10).median));
    // Zoom in until thumbnails appear, then further.
    int steps = 0;
    while (view.lastThumbnails() == 0 && steps++ < 200) {
        view.zoom(1.1);
        view.render(&target);
    }
    report("thumbnails appear", pan(view, target, 40));
    view.zoom(2);
    report("zoomed in 2x further", pan(view, target, 40));
    view.zoom(3);
    report("zoomed in 6x further", pan(view, target, 40));
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    std::string coordsFile;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "--coords")
            coordsFile = argv[i + 1];
    // 70,000 Fashion-MNIST thumbnails (each its own pixels).
    std::vector<QImage> thumbs;
    std::vector<int> labels;
    for (const char *file : {"train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"}) {
        auto source = ImageSource::open(std::string("/usr/share/datasets/fashion-mnist/") + file);
        for (std::int64_t i = 0; i < source->size(); ++i) {
            cv::Mat m = source->image(i), rgb;
            if (m.channels() == 1)
                cv::cvtColor(m, rgb, cv::COLOR_GRAY2RGB);
            else
                rgb = m;
            thumbs.push_back(QImage(rgb.data, rgb.cols, rgb.rows, static_cast<int>(rgb.step), QImage::Format_RGB888).copy());
            labels.push_back(source->label(i));
        }
    }
    torch::Tensor coords;
    if (!coordsFile.empty() && QFile::exists(QString::fromStdString(coordsFile)))
        coords = NpyFile::read(coordsFile).to(torch::kFloat32);
    std::vector<int> blobLabels;
    if (!coords.defined() || coords.size(0) != static_cast<std::int64_t>(thumbs.size()))
        coords = blobs(static_cast<std::int64_t>(thumbs.size()), blobLabels);
    run("Fashion-MNIST map", coords, labels, thumbs);

    std::vector<int> millionLabels;
    const torch::Tensor million = blobs(1000000, millionLabels);
    std::vector<QImage> shared;
    shared.reserve(1000000);
    for (std::int64_t i = 0; i < 1000000; ++i)
        shared.push_back(thumbs[static_cast<size_t>(i) % thumbs.size()]); // implicitly shared pixels
    run("synthetic map", million, millionLabels, std::move(shared));
    return 0;
}
