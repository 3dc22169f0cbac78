#pragma once
// An interactive dataset map: every point drawn — coloured dots when zoomed out, image thumbnails framed in their
// colour on top when zoomed in (level of detail: by on-screen thumbnail size, at most one thumbnail per cell of a
// map-anchored grid, so a frame stays cheap at any point count). Wheel zooms around the cursor, drag pans,
// Shift+drag selects a rectangle, Ctrl+drag (or Alt+drag) a lasso, a click opens a point; hovering shows a card with
// the point's image and caption. Dots are rasterised directly, so a million points stay interactive. Coordinates may change
// while t-SNE runs (setCoordinates keeps the view fitted until the user zooms or pans).
// Thumbnails come as QImages prepared off the GUI thread; only paintEvent turns them into pixels.
#include <QImage>
#include <QPolygon>
#include <QWidget>

#include <torch/types.h>

#include <unordered_map>
#include <vector>

class QPainter;

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
    const std::vector<std::pair<QString, QColor>> &legend() const { return legend_; }
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
    /// Points whose on-screen position lies inside `polygon` (widget coordinates) — the lasso's selection.
    std::vector<std::int64_t> pointsInside(const QPolygonF &polygon) const;
    /// The point whose hover card is shown, or −1.
    std::int64_t hovered() const { return hovered_; }

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
    void leaveEvent(QEvent *event) override;

private:
    void paintHoverCard(QPainter &p) const;
    QPointF toScreen(double x, double y) const;
    QPointF toWorld(QPointF p) const;
    double thumbnailPixels() const;

    std::vector<double> x_, y_;
    std::vector<QColor> colours_;
    std::vector<QRgb> rgb_; ///< colours_ as opaque QRgb, for the dot raster
    std::vector<QString> captions_;
    std::vector<QImage> thumbnails_;
    std::vector<std::pair<QString, QColor>> legend_;
    std::vector<std::int64_t> highlighted_;
    double scale_ = 1, offsetX_ = 0, offsetY_ = 0; ///< screen = world·scale + offset
    double worldSpan_ = 1;
    bool fitted_ = true;
    QPoint pressAt_, lastMouse_;
    bool dragging_ = false, selecting_ = false, lassoing_ = false;
    QRect selection_;
    QPolygon lasso_;
    std::int64_t hovered_ = -1;
    QImage dots_; ///< the dot raster, reused between paints
    /// Thumbnails scaled to `scaledSide_` pixels, by point; rebuilt when the size changes or it grows past the limit.
    std::unordered_map<std::size_t, QImage> scaled_;
    int scaledSide_ = 0;
    static constexpr double kThumbnailCell = 24;          ///< smallest LOD grid cell, px (bounds thumbnails per frame)
    static constexpr std::size_t kScaledCacheLimit = 20000; ///< scaled thumbnails kept
    double lastPaintMs_ = 0;
    int lastThumbnails_ = 0;
};

} // namespace convscope
