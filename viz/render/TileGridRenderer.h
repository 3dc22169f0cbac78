#pragma once
// Draws a TileSet as a grid: to a QImage (PNG export, GUI) or to an SVG file. Works headless (needs a
// QGuiApplication, e.g. on the offscreen platform, for text).
#include "tiles/TileSet.h"

#include <QColor>
#include <QImage>
#include <QRect>
#include <QString>

class QPainter;

namespace convscope {

class TileGridRenderer {
public:
    struct Options {
        int width = 0;          ///< total image width in pixels; 0 = choose so tiles are ~64 px
        int gap = 2;            ///< pixels between tiles
        bool captions = true;   ///< caption under each tile, one or two lines (hidden when tiles are under 24 px)
        QColor background = QColor(32, 33, 36);
        QColor text = QColor(232, 234, 237);
        int widestCaption = -1; ///< widestCaption(tiles) when the caller knows it (views: once per tile set); -1 measures
    };

    explicit TileGridRenderer(Options options) : options_(options) {}

    /// The grid as an RGB image.
    QImage render(const TileSet &tiles) const;
    /// One tile as an image of its native size (no scaling, no caption).
    static QImage tileImage(const TileSet &tiles, std::int64_t index);
    /// Pixels under each tile row for the captions of tiles drawn `tileWidth` wide: 0 (no captions or tiles under
    /// 24 px), one line, or two when a caption is wider than a tile.
    static int captionHeight(const TileSet &tiles, int tileWidth);
    /// The same from the widest caption's width in pixels (widestCaption(); -1 = no captions).
    static int captionHeight(int widestCaption, int tileWidth);
    /// Width in pixels of the widest caption as drawn, -1 when the set has none.
    static int widestCaption(const TileSet &tiles);
    /// How many captions are shortened with "…" or not drawn at all (tiles too small for captions): 0 when every
    /// caption shows whole. Captions wrap to a second line before they are cut.
    int cutCaptions(const TileSet &tiles) const;
    /// Index of the tile under `pos` in render() coordinates, or -1.
    int tileAt(const TileSet &tiles, QPoint pos) const;
    /// Where tile `index` is drawn in render() coordinates.
    QRect tileRect(const TileSet &tiles, int index) const;
    /// Writes PNG (or any raster format Qt knows by extension) or SVG (".svg"). Throws IoError/UsageError.
    void write(const TileSet &tiles, const QString &path) const;

private:
    struct Layout;
    Layout layout(const TileSet &tiles) const;
    void paint(QPainter &painter, const TileSet &tiles, const Layout &layout) const;
    Options options_;
};

} // namespace convscope
