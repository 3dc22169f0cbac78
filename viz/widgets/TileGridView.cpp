#include "widgets/TileGridView.h"

#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPixmap>
#include <QScrollBar>
#include <QToolTip>
#include <QWheelEvent>

namespace convscope {

TileGridView::TileGridView(QWidget *parent) : QScrollArea(parent), canvas_(new QLabel), renders_(new JobLane(this))
{
    canvas_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    canvas_->setMouseTracking(true);
    canvas_->installEventFilter(this);
    setWidget(canvas_);
    setWidgetResizable(false);
    setAlignment(Qt::AlignCenter);
    setBackgroundRole(QPalette::Dark);
    viewport()->installEventFilter(this);
}

TileGridView::~TileGridView() = default;

TileGridRenderer::Options TileGridView::renderOptions() const
{
    TileGridRenderer::Options o;
    o.gap = gap_;
    o.widestCaption = widestCaption_;
    if (fitWidth_ > 0 && tiles_.count()) {
        const int tileW = static_cast<int>(tiles_.values.size(3));
        o.width = static_cast<int>(std::ceil(tiles_.columns * (tileW * fitScale() + o.gap) + o.gap));
        return o;
    }
    const int64_t n = std::max<int64_t>(1, tiles_.count());
    const int columns = tiles_.columns > 0 ? tiles_.columns : static_cast<int>(std::ceil(std::sqrt(double(n))));
    const int tileW = tiles_.count() ? static_cast<int>(tiles_.values.size(3)) : 1;
    // Rounded up: the renderer derives the scale back from the width, and a pixel less would draw smaller tiles.
    o.width = static_cast<int>(std::ceil(columns * (tileW * shownScale() + o.gap) + o.gap));
    return o;
}

double TileGridView::wholeOrSmaller(double scale)
{
    // Small tiles grow by whole multiples (crisp pixels); large ones shrink to fit (never below 1/16).
    return scale >= 1 ? std::floor(scale) : std::max(scale, 1.0 / 16);
}

double TileGridView::fitBase() const
{
    const int tileW = static_cast<int>(tiles_.values.size(3)), tileH = static_cast<int>(tiles_.values.size(2));
    double scale = static_cast<double>(fitWidth_) / std::max(tileW, tileH);
    if (keepColumns_ && requestedColumns_ > 0) { // the set's columns fit the width (rows scroll)
        const int room = viewport()->width() - 8 - (grow_ ? 0 : verticalScrollBar()->sizeHint().width());
        scale = std::min(scale, (room - double(gap_) * (requestedColumns_ + 1)) / (requestedColumns_ * tileW));
    }
    return scale;
}

double TileGridView::fitScale() const
{
    // Zoomed in, the grid grows past the width and scrolls sideways; a column without scroll bars of its own (grow
    // to contents) always fits its width.
    return wholeOrSmaller(grow_ ? fitBase() : fitBase() * zoom_);
}

void TileGridView::setHighlighted(int index)
{
    if (index == highlight_)
        return;
    highlight_ = index;
    if (!image_.isNull())
        showImage();
}

void TileGridView::showImage()
{
    QPixmap pixmap = QPixmap::fromImage(image_);
    if (highlight_ >= 0 && highlight_ < tiles_.count()) {
        const QRect r = TileGridRenderer(renderOptions()).tileRect(tiles_, highlight_);
        QPainter painter(&pixmap);
        QPen pen(palette().color(QPalette::Highlight), 3);
        pen.setJoinStyle(Qt::MiterJoin);
        painter.setPen(pen);
        painter.drawRect(r.adjusted(-2, -2, 1, 1));
    }
    canvas_->setPixmap(pixmap);
}

void TileGridView::setTiles(TileSet tiles)
{
    highlight_ = -1;
    tiles_ = std::move(tiles);
    widestCaption_ = TileGridRenderer::widestCaption(tiles_);
    requestedColumns_ = tiles_.columns;
    render();
}

void TileGridView::setFitWidth(int tilePixels)
{
    fitWidth_ = std::max(0, tilePixels);
    if (tiles_.count())
        render();
}

void TileGridView::setGap(int pixels)
{
    gap_ = std::max(0, pixels);
    if (tiles_.count())
        render();
}

void TileGridView::setGrowToContents(bool grow)
{
    grow_ = grow;
    setVerticalScrollBarPolicy(grow ? Qt::ScrollBarAlwaysOff : Qt::ScrollBarAsNeeded);
    setHorizontalScrollBarPolicy(grow ? Qt::ScrollBarAlwaysOff : Qt::ScrollBarAsNeeded);
    if (!grow)
        setMinimumHeight(0), setMaximumHeight(QWIDGETSIZE_MAX);
}

void TileGridView::setKeepColumns(bool keep)
{
    keepColumns_ = keep;
    if (tiles_.count())
        render();
}

void TileGridView::clear(const QString &message)
{
    renders_->drop();
    tiles_ = TileSet();
    widestCaption_ = -1;
    image_ = QImage();
    canvas_->setPixmap(QPixmap());
    canvas_->setText(message);
    canvas_->adjustSize();
}

void TileGridView::render()
{
    if (!tiles_.count()) {
        clear();
        return;
    }
    if (fitWidth_ > 0 && keepColumns_ && requestedColumns_ > 0) {
        tiles_.columns = requestedColumns_;
    } else if (fitWidth_ > 0) { // as many columns as the width takes at the chosen tile size
        const int tileW = static_cast<int>(tiles_.values.size(3));
        const int room = viewport()->width() - 8 - verticalScrollBar()->sizeHint().width();
        tiles_.columns = std::max(1, static_cast<int>((room - gap_) / (tileW * fitScale() + gap_)));
    } else if (requestedColumns_ > 0) {
        tiles_.columns = requestedColumns_;
    } else { // the column count whose grid fills the view at the largest tile size
        const QSize room = maximumViewportSize() - QSize(8, 8); // not viewport(): scroll bars must not feed back
        const double tileW = static_cast<double>(tiles_.values.size(3)), tileH = static_cast<double>(tiles_.values.size(2));
        const auto n = static_cast<int>(tiles_.count());
        double best = -1;
        for (int c = 1; c <= n; ++c) {
            const int rows = (n + c - 1) / c;
            const double captionH = TileGridRenderer::captionHeight(widestCaption_, 64);
            const double scale = std::min((room.width() - double(gap_) * (c + 1)) / (c * tileW),
                                          (room.height() - double(gap_) * (rows + 1) - captionH * rows) / (rows * tileH));
            if (scale > best + 1e-9) {
                best = scale;
                tiles_.columns = c;
            }
        }
    }
    const TileSet tiles = tiles_;
    const TileGridRenderer renderer(renderOptions());
    renders_->run<QImage>([renderer, tiles] { return renderer.render(tiles); },
                          [this](QImage &image) {
                              image_ = image;
                              showImage();
                              canvas_->adjustSize();
                              if (grow_)
                                  setFixedHeight(image_.height() + 2 * frameWidth() + 8);
                              Q_EMIT rendered();
                          });
}

double TileGridView::baseScale() const
{
    if (!tiles_.count())
        return 1;
    const int tileW = static_cast<int>(tiles_.values.size(3)), tileH = static_cast<int>(tiles_.values.size(2));
    if (fitWidth_ > 0)
        return fitBase();
    // At zoom 1 the whole grid fits the viewport, captions included (one line, or two for long captions).
    const int64_t n = tiles_.count();
    const int columns = tiles_.columns > 0 ? tiles_.columns : static_cast<int>(std::ceil(std::sqrt(double(n))));
    const int rows = static_cast<int>((n + columns - 1) / columns);
    const QSize room = maximumViewportSize() - QSize(8, 8); // not viewport(): scroll bars must not feed back
    const double byWidth = static_cast<double>(room.width() - gap_ * (columns + 1)) / (columns * tileW);
    auto fit = [&](int captionH) {
        return std::min(byWidth, static_cast<double>(room.height() - gap_ * (rows + 1) - captionH * rows) / (rows * tileH));
    };
    // Captions as they are at zoom 1 (the base must not depend on the zoom, or zoom steps would feed back).
    const double first = fit(TileGridRenderer::captionHeight(widestCaption_, 64));
    return std::max(1e-3, fit(TileGridRenderer::captionHeight(widestCaption_, static_cast<int>(tileW * wholeOrSmaller(first)))));
}

void TileGridView::zoomBy(int direction)
{
    if (!tiles_.count())
        return;
    // Steps the drawn tile size, not a factor that rounding can swallow: every step shows a different grid (a
    // 3-pixel slice drawn 1 pixel wide grows to 2, 3, ... pixels; whole multiples of the data above that).
    const double tilePixels = static_cast<double>(std::max(tiles_.values.size(3), tiles_.values.size(2)));
    const double shown = shownScale();
    const double pixels = shown * tilePixels;
    double next;
    if (direction > 0)
        next = shown >= 1 ? shown + 1 : std::min(1.0, std::max(shown * 1.25, (std::floor(pixels) + 1) / tilePixels));
    else if (shown > 1)
        next = shown - 1;
    else
        next = std::ceil(pixels) - 1 >= 1 ? std::min(shown / 1.25, (std::ceil(pixels) - 1) / tilePixels) : shown / 1.25;
    next = std::clamp(next, 1.0 / 16, 64.0);
    zoom_ = 1.0;
    zoom_ = (next + 1e-6) / baseScale();
    render();
}

void TileGridView::zoomIn()
{
    zoomBy(+1);
}

void TileGridView::zoomOut()
{
    zoomBy(-1);
}

void TileGridView::resetZoom()
{
    zoom_ = 1.0;
    render();
}

double TileGridView::shownScale() const
{
    if (!tiles_.count())
        return 1.0;
    return fitWidth_ > 0 ? fitScale() : wholeOrSmaller(baseScale() * zoom_);
}

bool TileGridView::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::Wheel) {
        auto *wheel = static_cast<QWheelEvent *>(event);
        if (wheel->modifiers() & Qt::ControlModifier) {
            wheel->angleDelta().y() > 0 ? zoomIn() : zoomOut();
            return true;
        }
    } else if (event->type() == QEvent::Resize && watched == viewport() && tiles_.count()) {
        render();
    } else if (watched == canvas_ && (event->type() == QEvent::MouseMove || event->type() == QEvent::MouseButtonRelease)) {
        auto *mouse = static_cast<QMouseEvent *>(event);
        const TileGridRenderer renderer(renderOptions());
        const int index = renderer.tileAt(tiles_, mouse->position().toPoint());
        if (index < 0) {
            QToolTip::hideText();
            return false;
        }
        if (event->type() == QEvent::MouseButtonRelease) {
            setHighlighted(index);
            Q_EMIT tileClicked(index);
            return true;
        }
        QString tip = tr("tile %1").arg(index < static_cast<int>(tiles_.captions.size())
                                            ? QString::fromStdString(tiles_.captions[index]) : QString::number(index));
        if (tiles_.raw.defined() && index < tiles_.raw.size(0)) {
            torch::Tensor t = tiles_.raw[index].to(torch::kFloat32);
            tip += tr("\nmin %1  max %2\nmean %3  std %4")
                       .arg(t.min().item<float>(), 0, 'g', 4).arg(t.max().item<float>(), 0, 'g', 4)
                       .arg(t.mean().item<float>(), 0, 'g', 4).arg(t.numel() > 1 ? t.std().item<float>() : 0.f, 0, 'g', 4);
        }
        QToolTip::showText(mouse->globalPosition().toPoint(), tip, canvas_);
    }
    return QScrollArea::eventFilter(watched, event);
}

} // namespace convscope
