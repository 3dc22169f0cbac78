#include "render/ComparisonChartRenderer.h"

#include "common/Error.h"
#include "model/LayerInfo.h"
#include "render/MapPosterRenderer.h"
#include "render/PaintedFile.h"

#include <QFontMetrics>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace convscope {

namespace {

bool plotted(const ModelComparison::Row &r) { return r.ok() && r.macs > 0 && std::isfinite(r.top1); }

/// "1.2M", "350k" for labels.
QString shortCount(double v)
{
    return QString::fromStdString(humanCount(static_cast<std::int64_t>(std::llround(v))));
}

/// "2M", "500k", "1G" for axis ticks (1-2-5 steps).
QString tickCount(double v)
{
    const char *suffix[] = {"", "k", "M", "G", "T"};
    int k = 0;
    while (v >= 1000 && k < 4) {
        v /= 1000;
        ++k;
    }
    return QString::number(v, 'g', 3) + suffix[k];
}

} // namespace

QImage ComparisonChartRenderer::render(const std::vector<ModelComparison::Row> &rows) const
{
    QImage image(options_.width, options_.height, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    paint(painter, rows);
    return image;
}

void ComparisonChartRenderer::write(const std::vector<ModelComparison::Row> &rows, const QString &path) const
{
    PaintedFile::write(path, QSize(options_.width, options_.height), options_.title,
                       [&](QPainter &painter) { paint(painter, rows); });
}

void ComparisonChartRenderer::paint(QPainter &painter, const std::vector<ModelComparison::Row> &rows) const
{
    const int w = options_.width, h = options_.height;
    QFont font = painter.font();
    font.setPixelSize(std::max(11, h / 50));
    painter.setFont(font);
    const QFontMetrics fm(font);
    const int line = fm.height();
    const QRect plot(QPoint(8 + fm.horizontalAdvance("100.0 %") + line, 2 * line + 12),
                     QPoint(w - 24, h - 3 * line - 12));

    QFont titleFont = font;
    titleFont.setBold(true);
    painter.setFont(titleFont);
    painter.setPen(QColor(30, 30, 30));
    painter.drawText(QRect(0, 6, w, line + 4), Qt::AlignHCenter | Qt::AlignVCenter, options_.title);
    painter.setFont(font);

    std::vector<const ModelComparison::Row *> shown;
    for (const auto &r : rows)
        if (plotted(r))
            shown.push_back(&r);
    if (shown.empty()) {
        painter.setPen(QColor(90, 90, 90));
        painter.drawText(plot, Qt::AlignCenter, "No model has both multiply-adds and an accuracy to plot");
        return;
    }

    // Axes: log10 of multiply-adds, padded to whole half-decades; accuracy padded by 2 points, clamped to 0..100 %.
    double xmin = 1e300, xmax = 0, ymin = 1, ymax = 0, pmax = 1;
    for (const auto *r : shown) {
        xmin = std::min(xmin, double(r->macs));
        xmax = std::max(xmax, double(r->macs));
        ymin = std::min(ymin, r->top1);
        ymax = std::max(ymax, r->top1);
        pmax = std::max(pmax, double(r->params));
    }
    double lx0 = std::floor(std::log10(xmin) * 2 - 0.5) / 2, lx1 = std::ceil(std::log10(xmax) * 2 + 0.5) / 2;
    double y0 = std::max(0.0, std::floor((ymin - 0.02) * 50) / 50), y1 = std::min(1.0, std::ceil((ymax + 0.02) * 50) / 50);
    if (y1 - y0 < 0.04) {
        y0 = std::max(0.0, y0 - 0.02);
        y1 = std::min(1.0, y1 + 0.02);
    }
    auto px = [&](double macs) { return plot.left() + (std::log10(macs) - lx0) / (lx1 - lx0) * plot.width(); };
    auto py = [&](double acc) { return plot.bottom() - (acc - y0) / (y1 - y0) * plot.height(); };

    // Grid and tick labels.
    painter.setPen(QPen(QColor(225, 225, 225), 1));
    const double yStep = (y1 - y0) > 0.3 ? 0.1 : (y1 - y0) > 0.12 ? 0.05 : (y1 - y0) > 0.05 ? 0.02 : 0.01;
    for (double y = std::ceil(y0 / yStep - 1e-9) * yStep; y <= y1 + 1e-9; y += yStep) {
        painter.setPen(QPen(QColor(225, 225, 225), 1));
        painter.drawLine(QPointF(plot.left(), py(y)), QPointF(plot.right(), py(y)));
        painter.setPen(QColor(70, 70, 70));
        painter.drawText(QRectF(0, py(y) - line / 2.0, plot.left() - 6, line), Qt::AlignRight | Qt::AlignVCenter,
                         QString::number(100 * y, 'f', yStep < 0.02 ? 1 : 0) + " %");
    }
    for (int e = static_cast<int>(std::floor(lx0)); e <= static_cast<int>(std::ceil(lx1)); ++e)
        for (double m : {1.0, 2.0, 5.0}) {
            const double v = m * std::pow(10.0, e);
            if (std::log10(v) < lx0 - 1e-9 || std::log10(v) > lx1 + 1e-9)
                continue;
            const double x = px(v);
            painter.setPen(QPen(QColor(225, 225, 225), 1));
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
            painter.setPen(QColor(70, 70, 70));
            painter.drawText(QRectF(x - 60, plot.bottom() + 4, 120, line), Qt::AlignHCenter | Qt::AlignTop,
                             tickCount(v));
        }
    painter.setPen(QPen(QColor(120, 120, 120), 1));
    painter.drawRect(plot);
    painter.setPen(QColor(30, 30, 30));
    painter.drawText(QRect(plot.left(), h - line - 8, plot.width(), line + 4), Qt::AlignHCenter,
                     "multiply-adds per image (log scale)");
    painter.save();
    painter.translate(line * 0.2, plot.center().y());
    painter.rotate(-90);
    painter.drawText(QRect(-plot.height() / 2, 0, plot.height(), line + 2), Qt::AlignHCenter, "top-1 accuracy");
    painter.restore();

    // Markers: area ∝ parameters, the largest model's marker 1/12 of the plot's height across.
    const double maxRadius = std::max(8.0, plot.height() / 24.0);
    std::vector<QRectF> placed;
    for (size_t k = 0; k < shown.size(); ++k) {
        const auto *r = shown[k];
        const double radius = std::max(3.0, maxRadius * std::sqrt(double(r->params) / pmax));
        const QPointF c(px(double(r->macs)), py(r->top1));
        QColor colour = MapPosterRenderer::classColour(static_cast<int>(k));
        colour.setAlpha(150);
        painter.setPen(QPen(colour.darker(140), 1.5));
        painter.setBrush(colour);
        painter.drawEllipse(c, radius, radius);
        painter.setPen(QColor(20, 20, 20));
        const QString label = QString::fromStdString(r->name) + "  " + QString::number(100 * r->top1, 'f', 1) +
                              " %, " + shortCount(double(r->params)) + " params";
        const int tw = fm.horizontalAdvance(label);
        // Label to the right of the marker, or to the left when it would leave the plot; moved down or up by whole
        // lines while it would cover a label already drawn (models with nearly the same cost and accuracy).
        const double lx = c.x() + radius + 6 + tw < plot.right() ? c.x() + radius + 6 : c.x() - radius - 6 - tw;
        QRectF box(lx, c.y() - line / 2.0, tw, line);
        for (int step = 1; step < 40; ++step) {
            const bool clash = std::any_of(placed.begin(), placed.end(),
                                           [&](const QRectF &p) { return p.intersects(box); });
            if (!clash)
                break;
            const double dy = (step + 1) / 2 * line * (step % 2 ? 1 : -1);
            box.moveTop(c.y() - line / 2.0 + dy);
        }
        placed.push_back(box);
        painter.drawText(QPointF(box.left(), box.center().y() + fm.ascent() / 2.0 - 1), label);
    }
    painter.setBrush(Qt::NoBrush);
}

} // namespace convscope
