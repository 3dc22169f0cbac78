#include "widgets/TileGridView.h"

#include <QLabel>
#include <QMouseEvent>
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
    if (fitWidth_ > 0 && tiles_.count()) {
        const int tileW = static_cast<int>(tiles_.values.size(3));
        o.width = static_cast<int>(tiles_.columns * (tileW * fitScale() + o.gap) + o.gap);
        return o;
    }
    const int64_t n = std::max<int64_t>(1, tiles_.count());
    const int columns = tiles_.columns > 0 ? tiles_.columns : static_cast<int>(std::ceil(std::sqrt(double(n))));
    const int rows = static_cast<int>((n + columns - 1) / columns);
    const int tileW = tiles_.count() ? static_cast<int>(tiles_.values.size(3)) : 1;
    const int tileH = tiles_.count() ? static_cast<int>(tiles_.values.size(2)) : 1;
    // At zoom 1 the whole grid fits the viewport (captions take 14 px a row); never below 1 px per value.
    const QSize room = viewport()->size() - QSize(8, 8);
    const double byWidth = static_cast<double>(room.width() - o.gap * (columns + 1)) / (columns * tileW);
    const double byHeight = static_cast<double>(room.height() - o.gap * (rows + 1) - 14 * rows) / (rows * tileH);
    const double scale = wholeOrSmaller(std::min(byWidth, byHeight) * zoom_);
    o.width = static_cast<int>(columns * (tileW * scale + o.gap) + o.gap);
    return o;
}

double TileGridView::wholeOrSmaller(double scale)
{
    // Small tiles grow by whole multiples (crisp pixels); large ones shrink to fit (never below 1/16).
    return scale >= 1 ? std::floor(scale) : std::max(scale, 1.0 / 16);
}

double TileGridView::fitScale() const
{
    const int tileW = static_cast<int>(tiles_.values.size(3)), tileH = static_cast<int>(tiles_.values.size(2));
    double scale = static_cast<double>(fitWidth_) / std::max(tileW, tileH) * zoom_;
    if (keepColumns_ && requestedColumns_ > 0) { // the set's columns fit the width (rows scroll)
        const int room = viewport()->width() - 8 - verticalScrollBar()->sizeHint().width();
        scale = std::min(scale, (room - double(gap_) * (requestedColumns_ + 1)) / (requestedColumns_ * tileW));
    }
    return wholeOrSmaller(scale);
}

void TileGridView::setTiles(TileSet tiles)
{
    tiles_ = std::move(tiles);
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
        const QSize room = viewport()->size() - QSize(8, 8);
        const double tileW = static_cast<double>(tiles_.values.size(3)), tileH = static_cast<double>(tiles_.values.size(2));
        const auto n = static_cast<int>(tiles_.count());
        double best = -1;
        for (int c = 1; c <= n; ++c) {
            const int rows = (n + c - 1) / c;
            const double scale = std::min((room.width() - double(gap_) * (c + 1)) / (c * tileW),
                                          (room.height() - double(gap_) * (rows + 1) - 14.0 * rows) / (rows * tileH));
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
                              canvas_->setPixmap(QPixmap::fromImage(image_));
                              canvas_->adjustSize();
                              Q_EMIT rendered();
                          });
}

void TileGridView::zoomIn()
{
    zoom_ = std::min(zoom_ * 1.25, 16.0);
    render();
}

void TileGridView::zoomOut()
{
    zoom_ = std::max(zoom_ / 1.25, 0.25);
    render();
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
