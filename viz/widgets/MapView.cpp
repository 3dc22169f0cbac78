#include "widgets/MapView.h"

#include "map/MapExtent.h"

#include <QElapsedTimer>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace convscope {

MapView::MapView(QWidget *parent) : QWidget(parent)
{
    setMouseTracking(true);
    setMinimumSize(200, 200);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void MapView::setCoordinates(const torch::Tensor &coords)
{
    const torch::Tensor c = coords.to(torch::kFloat64).contiguous();
    const auto n = static_cast<size_t>(c.size(0));
    x_.resize(n);
    y_.resize(n);
    const double *d = c.data_ptr<double>();
    for (size_t i = 0; i < n; ++i)
        x_[i] = d[2 * i], y_[i] = d[2 * i + 1];
    if (fitted_)
        fit();
    update();
}

void MapView::setPoints(std::vector<QColor> colours, std::vector<QString> captions, std::vector<QImage> thumbnails)
{
    colours_ = std::move(colours);
    rgb_.resize(colours_.size());
    for (size_t i = 0; i < colours_.size(); ++i)
        rgb_[i] = colours_[i].rgba() | 0xff000000u;
    captions_ = std::move(captions);
    thumbnails_ = std::move(thumbnails);
    scaled_.clear();
    update();
}

void MapView::setLegend(std::vector<std::pair<QString, QColor>> legend)
{
    legend_ = std::move(legend);
    update();
}

void MapView::setHighlighted(std::vector<std::int64_t> points)
{
    highlighted_ = std::move(points);
    update();
}

void MapView::fit()
{
    fitted_ = true;
    if (x_.empty())
        return;
    const MapExtent frame = MapExtent::of(x_, y_); // a few far-flung points do not shrink the rest
    worldSpan_ = std::max({frame.width(), frame.height(), 1e-12});
    const double margin = 24;
    scale_ = std::min(width() - 2 * margin, height() - 2 * margin) / worldSpan_;
    offsetX_ = width() / 2.0 - (frame.left + frame.right) / 2 * scale_;
    offsetY_ = height() / 2.0 - (frame.top + frame.bottom) / 2 * scale_;
    update();
}

void MapView::zoom(double factor)
{
    const QPointF c(width() / 2.0, height() / 2.0);
    const QPointF w = toWorld(c);
    scale_ *= factor;
    offsetX_ = c.x() - w.x() * scale_;
    offsetY_ = c.y() - w.y() * scale_;
    fitted_ = false;
    update();
}

QPointF MapView::toScreen(double x, double y) const
{
    return {x * scale_ + offsetX_, y * scale_ + offsetY_};
}

QPointF MapView::toWorld(QPointF p) const
{
    return {(p.x() - offsetX_) / scale_, (p.y() - offsetY_) / scale_};
}

double MapView::thumbnailPixels() const
{
    // A thumbnail takes the room of an average point's share of the map at this zoom, capped.
    const double perPoint = worldSpan_ * scale_ / std::sqrt(std::max<double>(1, static_cast<double>(x_.size())));
    return std::min(96.0, perPoint * 1.6);
}

void MapView::paintEvent(QPaintEvent *)
{
    QElapsedTimer clock;
    clock.start();
    QPainter p(this);
    p.fillRect(rect(), QColor(24, 25, 28));
    const double thumb = thumbnailPixels();
    const bool thumbnails = thumb >= 14 && !thumbnails_.empty();
    const QRectF visible = QRectF(rect()).adjusted(-thumb, -thumb, thumb, thumb);
    lastThumbnails_ = 0;
    const auto n = x_.size();
    {
        // Every point as a dot, straight into a raster (a QPainter call per point is far too slow for a million
        // points); thumbnails, when the zoom allows, go on top.
        const int dot = static_cast<int>(std::clamp(thumb / 3, 2.0, 5.0));
        if (dots_.size() != size())
            dots_ = QImage(size(), QImage::Format_ARGB32_Premultiplied);
        dots_.fill(Qt::transparent);
        const int w = dots_.width(), h = dots_.height();
        auto *bits = reinterpret_cast<QRgb *>(dots_.bits());
        const auto stride = static_cast<std::size_t>(dots_.bytesPerLine() / 4);
        for (size_t i = 0; i < n; ++i) {
            const int sx = static_cast<int>(std::floor(x_[i] * scale_ + offsetX_)) - dot / 2;
            const int sy = static_cast<int>(std::floor(y_[i] * scale_ + offsetY_)) - dot / 2;
            if (sx + dot <= 0 || sy + dot <= 0 || sx >= w || sy >= h)
                continue;
            const QRgb c = i < rgb_.size() ? rgb_[i] : qRgb(128, 128, 128);
            for (int yy = std::max(0, sy); yy < std::min(h, sy + dot); ++yy) {
                QRgb *row = bits + static_cast<std::size_t>(yy) * stride;
                for (int xx = std::max(0, sx); xx < std::min(w, sx + dot); ++xx)
                    row[xx] = c;
            }
        }
        p.drawImage(0, 0, dots_);
    }
    if (thumbnails) {
        // Level of detail: at most one thumbnail per cell of a grid anchored to the map (so panning never swaps
        // them), the first point of a cell by index; the rest stay dots. Thumbnails are scaled once per size and
        // then blitted unscaled, so a frame costs a bounded number of small copies whatever the point count.
        const int side = std::max(8, static_cast<int>(std::lround(thumb)));
        const double cell = std::max(static_cast<double>(side), kThumbnailCell);
        if (side != scaledSide_) {
            scaled_.clear();
            scaledSide_ = side;
        }
        if (scaled_.size() > kScaledCacheLimit)
            scaled_.clear();
        const double left = std::floor((visible.left() - offsetX_) / cell), top = std::floor((visible.top() - offsetY_) / cell);
        const int columns = static_cast<int>(std::ceil(visible.width() / cell)) + 2;
        const int rows = static_cast<int>(std::ceil(visible.height() / cell)) + 2;
        std::vector<unsigned char> taken(static_cast<std::size_t>(columns) * static_cast<std::size_t>(rows), 0);
        for (size_t i = 0; i < n; ++i) {
            const QPointF s = toScreen(x_[i], y_[i]);
            if (!visible.contains(s))
                continue;
            const int gx = std::clamp(static_cast<int>(std::floor((s.x() - offsetX_) / cell) - left), 0, columns - 1);
            const int gy = std::clamp(static_cast<int>(std::floor((s.y() - offsetY_) / cell) - top), 0, rows - 1);
            unsigned char &claim = taken[static_cast<std::size_t>(gy) * static_cast<std::size_t>(columns) + static_cast<std::size_t>(gx)];
            if (claim)
                continue;
            claim = 1;
            const QPoint corner(static_cast<int>(std::lround(s.x() - side / 2.0)), static_cast<int>(std::lround(s.y() - side / 2.0)));
            p.fillRect(QRect(corner - QPoint(2, 2), QSize(side + 4, side + 4)), i < colours_.size() ? colours_[i] : Qt::gray);
            if (i < thumbnails_.size() && !thumbnails_[i].isNull()) {
                auto found = scaled_.find(i);
                if (found == scaled_.end())
                    found = scaled_.emplace(i, thumbnails_[i]
                                                   .scaled(side, side, Qt::IgnoreAspectRatio,
                                                           side < 40 ? Qt::SmoothTransformation : Qt::FastTransformation)
                                                   .convertToFormat(QImage::Format_ARGB32_Premultiplied))
                                .first;
                p.drawImage(corner, found->second);
            }
            ++lastThumbnails_;
        }
    }
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(QColor(255, 220, 0), 2));
    for (std::int64_t h : highlighted_)
        if (h >= 0 && static_cast<size_t>(h) < n) {
            const QPointF s = toScreen(x_[static_cast<size_t>(h)], y_[static_cast<size_t>(h)]);
            const double r = std::max(6.0, thumbnails ? thumb * 0.75 : 6.0);
            p.drawEllipse(s, r, r);
        }
    if (selecting_) {
        p.setPen(QPen(QColor(255, 255, 255, 200), 1, Qt::DashLine));
        p.setBrush(QColor(255, 255, 255, 30));
        p.drawRect(selection_);
    }
    if (lassoing_ && lasso_.size() > 1) {
        p.setPen(QPen(QColor(255, 255, 255, 220), 1.5, Qt::DashLine));
        p.setBrush(QColor(255, 255, 255, 30));
        p.drawPolygon(lasso_);
    }
    paintHoverCard(p);
    // Legend, top left.
    p.setPen(QColor(232, 234, 237));
    QFont f = p.font();
    f.setPixelSize(12);
    p.setFont(f);
    for (size_t i = 0; i < legend_.size(); ++i) {
        const int y = 10 + static_cast<int>(i) * 17;
        p.fillRect(QRect(10, y, 12, 12), legend_[i].second);
        p.drawText(QPoint(28, y + 11), legend_[i].first);
    }
    lastPaintMs_ = static_cast<double>(clock.nsecsElapsed()) / 1e6;
}

void MapView::paintHoverCard(QPainter &p) const
{
    if (hovered_ < 0 || static_cast<size_t>(hovered_) >= x_.size())
        return;
    const auto i = static_cast<size_t>(hovered_);
    const QPointF s = toScreen(x_[i], y_[i]);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(QColor(255, 255, 255), 2));
    p.setBrush(Qt::NoBrush);
    p.drawEllipse(s, 7, 7);
    const QString caption = i < captions_.size() ? captions_[i] : QString();
    const bool image = i < thumbnails_.size() && !thumbnails_[i].isNull();
    const int side = image ? 112 : 0;
    QFont f = p.font();
    f.setPixelSize(12);
    p.setFont(f);
    const QRect text = p.fontMetrics().boundingRect(QRect(0, 0, 260, 200), Qt::TextWordWrap, caption);
    const int w = std::max(side, text.width()) + 16, h = side + text.height() + (image ? 24 : 16);
    // Beside the point, flipped to stay inside the view.
    int left = static_cast<int>(s.x()) + 14, top = static_cast<int>(s.y()) + 14;
    if (left + w > width())
        left = static_cast<int>(s.x()) - 14 - w;
    if (top + h > height())
        top = static_cast<int>(s.y()) - 14 - h;
    const QRect card(std::max(0, left), std::max(0, top), w, h);
    p.setPen(QColor(90, 92, 98));
    p.setBrush(QColor(40, 42, 46, 240));
    p.drawRoundedRect(card, 6, 6);
    if (image) {
        p.setRenderHint(QPainter::SmoothPixmapTransform, false); // crisp pixels for small inputs
        p.drawImage(QRect(card.left() + (w - side) / 2, card.top() + 8, side, side), thumbnails_[i]);
    }
    p.setPen(QColor(232, 234, 237));
    p.drawText(QRect(card.left() + 8, card.top() + (image ? side + 16 : 8), w - 16, text.height()), Qt::TextWordWrap,
               caption);
}

std::int64_t MapView::pointAt(QPoint pos) const
{
    const double reach = std::max(6.0, thumbnailPixels() / 2);
    std::int64_t best = -1;
    double bestD = reach * reach;
    for (size_t i = 0; i < x_.size(); ++i) {
        const QPointF s = toScreen(x_[i], y_[i]);
        const double d = (s.x() - pos.x()) * (s.x() - pos.x()) + (s.y() - pos.y()) * (s.y() - pos.y());
        if (d < bestD)
            bestD = d, best = static_cast<std::int64_t>(i);
    }
    return best;
}

void MapView::wheelEvent(QWheelEvent *event)
{
    const QPointF at = event->position();
    const QPointF w = toWorld(at);
    scale_ *= std::pow(1.0015, event->angleDelta().y());
    offsetX_ = at.x() - w.x() * scale_;
    offsetY_ = at.y() - w.y() * scale_;
    fitted_ = false;
    update();
}

void MapView::mousePressEvent(QMouseEvent *event)
{
    pressAt_ = lastMouse_ = event->position().toPoint();
    selecting_ = event->modifiers() & Qt::ShiftModifier;
    lassoing_ = !selecting_ && (event->modifiers() & (Qt::ControlModifier | Qt::AltModifier));
    dragging_ = !selecting_ && !lassoing_;
    selection_ = QRect(pressAt_, QSize());
    lasso_ = QPolygon({pressAt_});
    hovered_ = -1;
}

void MapView::mouseMoveEvent(QMouseEvent *event)
{
    const QPoint pos = event->position().toPoint();
    if (dragging_) {
        offsetX_ += pos.x() - lastMouse_.x();
        offsetY_ += pos.y() - lastMouse_.y();
        fitted_ = false;
        lastMouse_ = pos;
        update();
        return;
    }
    if (selecting_) {
        selection_ = QRect(pressAt_, pos).normalized();
        update();
        return;
    }
    if (lassoing_) {
        lasso_ << pos;
        update();
        return;
    }
    const std::int64_t i = pointAt(pos);
    if (i != hovered_) {
        hovered_ = i;
        update();
    }
}

void MapView::mouseReleaseEvent(QMouseEvent *event)
{
    const QPoint pos = event->position().toPoint();
    if (selecting_) {
        selecting_ = false;
        std::vector<std::int64_t> inside;
        for (size_t i = 0; i < x_.size(); ++i)
            if (selection_.contains(toScreen(x_[i], y_[i]).toPoint()))
                inside.push_back(static_cast<std::int64_t>(i));
        update();
        Q_EMIT selected(inside);
    } else if (lassoing_) {
        lassoing_ = false;
        Q_EMIT selected(pointsInside(QPolygonF(lasso_)));
        lasso_.clear();
        update();
    } else if (dragging_ && (pos - pressAt_).manhattanLength() < 4) {
        const std::int64_t i = pointAt(pos);
        if (i >= 0)
            Q_EMIT activated(i);
    }
    dragging_ = false;
}

std::vector<std::int64_t> MapView::pointsInside(const QPolygonF &polygon) const
{
    std::vector<std::int64_t> inside;
    const QRectF bounds = polygon.boundingRect();
    for (size_t i = 0; i < x_.size(); ++i) {
        const QPointF s = toScreen(x_[i], y_[i]);
        if (bounds.contains(s) && polygon.containsPoint(s, Qt::OddEvenFill))
            inside.push_back(static_cast<std::int64_t>(i));
    }
    return inside;
}

void MapView::leaveEvent(QEvent *)
{
    if (hovered_ >= 0) {
        hovered_ = -1;
        update();
    }
}

void MapView::resizeEvent(QResizeEvent *)
{
    if (fitted_)
        fit();
}

} // namespace convscope
