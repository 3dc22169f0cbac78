#pragma once
// An interactive dataset map: every point drawn — coloured dots when zoomed out, image thumbnails framed in their
// colour when zoomed in (level of detail by on-screen thumbnail size). Wheel zooms around the cursor, drag pans,
// Shift+drag selects a rectangle, a click opens a point; hover shows the point's caption. Coordinates may change
// while t-SNE runs (setCoordinates keeps the view fitted until the user zooms or pans).
// Thumbnails come as QImages prepared off the GUI thread; only paintEvent turns them into pixels.
#include <QImage>
#include <QWidget>

#include <torch/types.h>

#include <vector>

namespace convscope {

class MapView : public QWidget {
    Q_OBJECT
public:
    explicit MapView(QWidget *parent = nullptr);

    /// N×2 positions (any scale).
    void setCoordinates(const torch::Tensor &coords);
    /// Per point: colour, caption (hover) and thumbnail (may be null: dots only).
    void setPoints(std::vector<QColor> colours, std::vector<QString> captions, std::vector<QImage> thumbnails);
    /// Legend entries (name, colour).
    void setLegend(std::vector<std::pair<QString, QColor>> legend);
    /// Points drawn with a ring (a unit's top images, a selection elsewhere).
    void setHighlighted(std::vector<std::int64_t> points);
    /// Back to the whole map.
    void fit();
    /// Zoom by `factor` around the widget centre (tests, keyboard).
    void zoom(double factor);

    std::int64_t count() const { return static_cast<std::int64_t>(x_.size()); }
    /// Milliseconds the last paint took.
    double lastPaintMs() const { return lastPaintMs_; }
    /// Thumbnails drawn in the last paint (0 when zoomed out to dots).
    int lastThumbnails() const { return lastThumbnails_; }
    /// The point under `pos` (widget coordinates), or -1.
    std::int64_t pointAt(QPoint pos) const;

Q_SIGNALS:
    void selected(const std::vector<std::int64_t> &points);
    void activated(std::int64_t point);

protected:
    void paintEvent(QPaintEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    QPointF toScreen(double x, double y) const;
    QPointF toWorld(QPointF p) const;
    double thumbnailPixels() const;

    std::vector<double> x_, y_;
    std::vector<QColor> colours_;
    std::vector<QString> captions_;
    std::vector<QImage> thumbnails_;
    std::vector<std::pair<QString, QColor>> legend_;
    std::vector<std::int64_t> highlighted_;
    double scale_ = 1, offsetX_ = 0, offsetY_ = 0; ///< screen = world·scale + offset
    double worldSpan_ = 1;
    bool fitted_ = true;
    QPoint pressAt_, lastMouse_;
    bool dragging_ = false, selecting_ = false;
    QRect selection_;
    double lastPaintMs_ = 0;
    int lastThumbnails_ = 0;
};

} // namespace convscope
