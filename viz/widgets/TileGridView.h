#pragma once
// Shows a TileSet as a zoomable grid (Ctrl+wheel or zoomIn/zoomOut), with the tile index and statistics on
// hover. Rendering runs on a worker thread; the pixmap is made on the GUI thread.
#include "jobs/JobLane.h"
#include "render/TileGridRenderer.h"

#include <QScrollArea>

class QLabel;

namespace convscope {

class TileGridView : public QScrollArea {
    Q_OBJECT
public:
    explicit TileGridView(QWidget *parent = nullptr);
    ~TileGridView() override;

    /// Shows `tiles` (hover statistics come from tiles.raw when it is set).
    void setTiles(TileSet tiles);
    void clear(const QString &message = {});
    const TileSet &tiles() const { return tiles_; }
    /// The grid as last rendered (for tests and clipboard).
    QImage image() const { return image_; }
    /// Options used for on-screen rendering (export uses its own width).
    TileGridRenderer::Options renderOptions() const;
    /// One step larger / smaller: the drawn tile size changes by at least one pixel each step.
    void zoomIn();
    void zoomOut();
    /// Back to the default (the whole grid fits the view, or the fit-width tile size).
    void resetZoom();
    /// Drawn pixels per tile value at the current zoom (tests, status).
    double shownScale() const;
    /// Fill the width with tiles of about `tilePixels` (integer zoom), scrolling vertically — for long grids such
    /// as a layer's units. 0 (the default) fits the whole grid in the view instead.
    void setFitWidth(int tilePixels);
    /// In fit-width mode, keep the tile set's own column count (a figure whose columns mean something, such as
    /// checkpoints): tiles of at most `tilePixels`, smaller where the columns would not fit the width.
    void setKeepColumns(bool keep);
    /// Frames tile `index` (-1: none). A clicked tile is framed by itself; new tiles clear it.
    void setHighlighted(int index);
    int highlighted() const { return highlight_; }
    /// The view takes the rendered grid's height (no scroll bar of its own), for grids inside a scrolling column.
    void setGrowToContents(bool grow);
    /// Pixels between tiles (default 2); wider for tiles that are mosaics themselves.
    void setGap(int pixels);

Q_SIGNALS:
    void tileClicked(int index);
    void rendered();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    static double wholeOrSmaller(double scale);
    double baseScale() const; ///< pixels per value at zoom 1 (before rounding)
    void zoomBy(int direction);
    double fitScale() const; ///< tile scale in fit-width mode
    double fitBase() const;  ///< fit-width scale at zoom 1 (before rounding)
    void render();
    QLabel *canvas_;
    TileSet tiles_;
    QImage image_;
    double zoom_ = 1.0;
    int fitWidth_ = 0;
    bool keepColumns_ = false;
    bool grow_ = false;
    int highlight_ = -1;
    int widestCaption_ = -1; ///< of tiles_, measured once per tile set
    void showImage(); ///< the rendered grid with the highlight frame, as the canvas's pixmap
    int gap_ = TileGridRenderer::Options{}.gap;
    int requestedColumns_ = 0; ///< the set's own columns (0 = square), before fit-width layout
    JobLane *renders_; ///< the grid drawn off the GUI thread; a newer one supersedes it
};

} // namespace convscope
