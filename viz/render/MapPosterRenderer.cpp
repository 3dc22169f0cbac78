#include "render/MapPosterRenderer.h"

#include "render/ImageConversion.h"

#include "map/MapExtent.h"

#include <QPainter>

#include <algorithm>
#include <vector>

namespace convscope {

QColor MapPosterRenderer::classColour(int label)
{
    static const QRgb palette[20] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948, 0xb07aa1,
                                     0xff9da7, 0x9c755f, 0xbab0ac, 0x86bcb6, 0xd37295, 0xfabfd2, 0xb6992d,
                                     0x499894, 0x8cd17d, 0xf1ce63, 0xa0cbe8, 0xffbe7d, 0xd4a6c8};
    return label < 0 ? QColor(150, 150, 150) : QColor(palette[label % 20]);
}

QImage MapPosterRenderer::render(const torch::Tensor &coordsIn, const std::function<torch::Tensor(std::int64_t)> &thumbnail,
                                 const std::vector<int> &labels, const std::vector<std::string> &classNames,
                                 const Options &o)
{
    const torch::Tensor coords = coordsIn.to(torch::kFloat64).contiguous();
    const std::int64_t n = coords.size(0);
    QImage img(o.width, o.width, QImage::Format_RGB32);
    img.fill(QColor(24, 25, 28));
    QPainter p(&img);
    p.setRenderHint(QPainter::SmoothPixmapTransform, o.thumb > 0);
    const double margin = std::max(o.thumb, 8) + 10.0, top = o.title.isEmpty() ? margin : margin + 30;
    std::vector<double> xs(static_cast<size_t>(n)), ys(static_cast<size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        xs[static_cast<size_t>(i)] = coords[i][0].item<double>(), ys[static_cast<size_t>(i)] = coords[i][1].item<double>();
    const MapExtent frame = MapExtent::of(xs, ys); // far-flung points are pinned to the border
    const double x0 = frame.left, y0 = frame.top, span = std::max({frame.width(), frame.height(), 1e-12});
    const double legend = classNames.empty() ? 0 : 230; // the legend's column on the right stays clear
    const double room = std::min(o.width - margin - std::max(margin, top), o.width - 2 * margin - legend);
    auto place = [&](std::int64_t i) {
        const double u = std::clamp((xs[static_cast<size_t>(i)] - x0) / span, 0.0, frame.width() / span);
        const double v = std::clamp((ys[static_cast<size_t>(i)] - y0) / span, 0.0, frame.height() / span);
        return QPointF(margin + u * room, top + v * room);
    };
    for (std::int64_t i = 0; i < n; ++i) {
        const QPointF c = place(i);
        const QColor colour = classColour(i < static_cast<std::int64_t>(labels.size()) ? labels[static_cast<size_t>(i)] : -1);
        if (o.thumb <= 0) {
            p.fillRect(QRectF(c.x() - 1.5, c.y() - 1.5, 3, 3), colour);
            continue;
        }
        const QImage th = ImageConversion::fromTensor(thumbnail(i));
        const QRectF r(c.x() - o.thumb / 2.0, c.y() - o.thumb / 2.0, o.thumb, o.thumb);
        p.fillRect(r.adjusted(-2, -2, 2, 2), colour);
        p.drawImage(r, th);
    }
    QFont f = p.font();
    f.setPixelSize(std::max(12, o.width / 160));
    p.setFont(f);
    p.setPen(QColor(232, 234, 237));
    if (!o.title.isEmpty())
        p.drawText(QRectF(10, 6, o.width - 20, 30), Qt::AlignLeft | Qt::AlignVCenter, o.title);
    int row = 0; // legend, top right
    for (size_t c = 0; c < classNames.size(); ++c) {
        const double y = top + row++ * (f.pixelSize() + 6);
        p.fillRect(QRectF(o.width - 220, y, f.pixelSize(), f.pixelSize()), classColour(static_cast<int>(c)));
        p.drawText(QPointF(o.width - 212 + f.pixelSize(), y + f.pixelSize() - 2), QString::fromStdString(classNames[c]));
    }
    return img;
}

} // namespace convscope
