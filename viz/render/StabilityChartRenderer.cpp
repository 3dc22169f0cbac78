#include "render/StabilityChartRenderer.h"

#include "render/MapPosterRenderer.h"
#include "render/PaintedFile.h"

#include <QFontMetrics>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace convscope {

QString StabilityChartRenderer::title() const
{
    if (!options_.title.isEmpty())
        return options_.title;
    return options_.toFinal ? QStringLiteral("Share of each unit's top images already found at the last checkpoint")
                            : QStringLiteral("Share of each unit's top images kept from one checkpoint to the next");
}

QImage StabilityChartRenderer::render(const std::vector<std::string> &labels,
                                      const std::vector<FeatureEvolution::LayerStability> &layers) const
{
    QImage image(options_.width, options_.height, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    paint(painter, labels, layers);
    return image;
}

void StabilityChartRenderer::write(const std::vector<std::string> &labels,
                                   const std::vector<FeatureEvolution::LayerStability> &layers,
                                   const QString &path) const
{
    PaintedFile::write(path, QSize(options_.width, options_.height), title(),
                       [&](QPainter &painter) { paint(painter, labels, layers); });
}

void StabilityChartRenderer::paint(QPainter &painter, const std::vector<std::string> &labels,
                                   const std::vector<FeatureEvolution::LayerStability> &layers) const
{
    const int w = options_.width, h = options_.height;
    QFont font = painter.font();
    font.setPixelSize(std::max(11, h / 45));
    painter.setFont(font);
    const QFontMetrics fm(font);
    const int line = fm.height();
    // Legend at the right: as wide as the longest layer name.
    int legendWidth = 0;
    for (const auto &l : layers)
        legendWidth = std::max(legendWidth, fm.horizontalAdvance(QString::fromStdString(l.layer)));
    legendWidth = std::min(legendWidth + 34, w / 3);
    const QRect plot(QPoint(8 + fm.horizontalAdvance("100 %") + line, 2 * line + 14),
                     QPoint(w - legendWidth - 16, h - 3 * line - 14));

    QFont bold = font;
    bold.setBold(true);
    painter.setFont(bold);
    painter.setPen(QColor(30, 30, 30));
    painter.drawText(QRect(0, 6, w, line + 4), Qt::AlignHCenter | Qt::AlignVCenter, title());
    painter.setFont(font);

    // x: transitions ("epoch 0 → epoch 1") or checkpoints.
    std::vector<QString> ticks;
    if (options_.toFinal) {
        for (const auto &l : labels)
            ticks.push_back(QString::fromStdString(l));
    } else {
        for (size_t i = 0; i + 1 < labels.size(); ++i)
            ticks.push_back(QString::fromStdString(labels[i]) + QStringLiteral(" → ") +
                            QString::fromStdString(labels[i + 1]));
    }
    if (ticks.empty() || layers.empty()) {
        painter.setPen(QColor(90, 90, 90));
        painter.drawText(plot, Qt::AlignCenter, QStringLiteral("Nothing to plot: scan at least two checkpoints"));
        return;
    }
    const double n = static_cast<double>(ticks.size());
    auto px = [&](size_t i) {
        return ticks.size() == 1 ? plot.center().x() : plot.left() + 20 + i * (plot.width() - 40) / (n - 1);
    };
    auto py = [&](double v) { return plot.bottom() - v * plot.height(); };
    for (int k = 0; k <= 10; k += 2) {
        const double v = k / 10.0;
        painter.setPen(QPen(QColor(225, 225, 225), 1));
        painter.drawLine(QPointF(plot.left(), py(v)), QPointF(plot.right(), py(v)));
        painter.setPen(QColor(70, 70, 70));
        painter.drawText(QRectF(0, py(v) - line / 2.0, plot.left() - 6, line), Qt::AlignRight | Qt::AlignVCenter,
                         QString::number(k * 10) + " %");
    }
    // Tick labels: elided to the space between ticks, alternating rows when they are narrow.
    const double room = ticks.size() == 1 ? plot.width() : (plot.width() - 40) / (n - 1);
    const bool twoRows = std::any_of(ticks.begin(), ticks.end(),
                                     [&](const QString &t) { return fm.horizontalAdvance(t) > room - 6; });
    for (size_t i = 0; i < ticks.size(); ++i) {
        const double x = px(i);
        painter.setPen(QPen(QColor(225, 225, 225), 1));
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        painter.setPen(QColor(70, 70, 70));
        const double width = twoRows ? 2 * room - 6 : room - 6;
        const QString text = fm.elidedText(ticks[i], Qt::ElideMiddle, static_cast<int>(std::max(30.0, width)));
        const double y = plot.bottom() + 4 + (twoRows && i % 2 ? line : 0);
        painter.drawText(QRectF(x - width / 2, y, width, line), Qt::AlignHCenter | Qt::AlignTop, text);
    }
    painter.setPen(QPen(QColor(120, 120, 120), 1));
    painter.drawRect(plot);
    painter.save();
    painter.translate(line * 0.2, plot.center().y());
    painter.rotate(-90);
    painter.setPen(QColor(30, 30, 30));
    painter.drawText(QRect(-plot.height() / 2, 0, plot.height(), line + 2), Qt::AlignHCenter,
                     options_.toFinal ? QStringLiteral("top images shared with the last checkpoint")
                                      : QStringLiteral("top images kept"));
    painter.restore();

    // One line per layer, lower layers in the first colours; gaps where no unit compared.
    for (size_t k = 0; k < layers.size(); ++k) {
        const auto &values = options_.toFinal ? layers[k].toFinal : layers[k].consecutive;
        const QColor colour = MapPosterRenderer::classColour(static_cast<int>(k));
        QPainterPath path;
        bool open = false;
        for (size_t i = 0; i < values.size() && i < ticks.size(); ++i) {
            if (!std::isfinite(values[i])) {
                open = false;
                continue;
            }
            const QPointF p(px(i), py(std::clamp(values[i], 0.0, 1.0)));
            open ? path.lineTo(p) : path.moveTo(p);
            open = true;
            painter.setPen(Qt::NoPen);
            painter.setBrush(colour);
            painter.drawEllipse(p, 3.5, 3.5);
        }
        painter.setBrush(Qt::NoBrush);
        painter.setPen(QPen(colour, 2.2));
        painter.drawPath(path);
        const double ly = plot.top() + 4 + k * (line + 4);
        painter.drawLine(QPointF(plot.right() + 14, ly + line / 2.0), QPointF(plot.right() + 34, ly + line / 2.0));
        painter.setPen(QColor(30, 30, 30));
        painter.drawText(QRectF(plot.right() + 40, ly, legendWidth - 30, line), Qt::AlignLeft | Qt::AlignVCenter,
                         fm.elidedText(QString::fromStdString(layers[k].layer), Qt::ElideMiddle, legendWidth - 30));
    }
}

} // namespace convscope
