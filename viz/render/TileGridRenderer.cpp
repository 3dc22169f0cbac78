#include "render/TileGridRenderer.h"

#include "render/Colormap.h"
#include "common/Error.h"

#include <QFileInfo>
#include <QFontMetrics>
#include <QPainter>
#include <QSvgGenerator>

#include <cmath>

namespace convscope {

namespace {

constexpr int kCaptionPixels = 10; ///< caption font size
constexpr int kCaptionLine = 13;   ///< pixels per caption line

QFont captionFont()
{
    QFont f;
    f.setPixelSize(kCaptionPixels);
    return f;
}

/// A caption in at most two lines of `width` pixels: whole if it fits, else broken at " · " or a space (the second
/// line takes the rest), each line elided with "…" only when a single part is still too wide. `cut` tells whether
/// anything was elided.
QStringList captionLines(const QString &text, int width, bool *cut = nullptr)
{
    const QFontMetrics fm(captionFont());
    if (cut)
        *cut = false;
    if (fm.horizontalAdvance(text) <= width)
        return {text};
    // The longest first line that fits, breaking at " · " first, then at spaces.
    QString first, rest = text;
    for (const QString &sep : {QStringLiteral(" · "), QStringLiteral(" ")}) {
        for (int at = text.lastIndexOf(sep); at > 0; at = text.lastIndexOf(sep, at - 1)) {
            if (fm.horizontalAdvance(text.left(at)) <= width) {
                first = text.left(at);
                rest = text.mid(at + sep.size());
                break;
            }
        }
        if (!first.isEmpty())
            break;
    }
    QStringList lines;
    if (first.isEmpty()) { // one word: split it where it stops fitting
        int n = text.size();
        while (n > 1 && fm.horizontalAdvance(text.left(n)) > width)
            --n;
        first = text.left(n);
        rest = text.mid(n);
    }
    lines << first;
    const QString second = fm.elidedText(rest, Qt::ElideRight, width);
    if (cut && second != rest)
        *cut = true;
    lines << second;
    return lines;
}

} // namespace

struct TileGridRenderer::Layout {
    int columns = 1, rows = 1;
    int tileW = 1, tileH = 1;   ///< drawn tile size in pixels
    int captionH = 0, titleH = 0;
    int width = 1, height = 1;
    bool smooth = false;        ///< tiles are drawn smaller than their data
};

TileGridRenderer::Layout TileGridRenderer::layout(const TileSet &tiles) const
{
    Layout l;
    const int64_t n = std::max<int64_t>(1, tiles.count());
    l.columns = tiles.columns > 0 ? tiles.columns : static_cast<int>(std::ceil(std::sqrt(double(n))));
    l.rows = static_cast<int>((n + l.columns - 1) / l.columns);
    const int h = tiles.count() ? static_cast<int>(tiles.values.size(2)) : 1;
    const int w = tiles.count() ? static_cast<int>(tiles.values.size(3)) : 1;
    // Whole multiples keep small tiles crisp; tiles larger than the room are shrunk smoothly instead.
    double scale;
    if (options_.width > 0)
        scale = static_cast<double>(options_.width - options_.gap * (l.columns + 1)) / (l.columns * w);
    else
        scale = 64.0 / std::max(w, h);
    scale = scale >= 1 || options_.width <= 0 ? std::max(1.0, std::floor(scale)) : std::max(scale, 1.0 / 64);
    l.tileW = std::max(1, static_cast<int>(w * scale));
    l.tileH = std::max(1, static_cast<int>(h * scale));
    l.smooth = scale < 1;
    l.captionH = !options_.captions ? 0
                 : options_.widestCaption >= 0 || tiles.captions.empty() ? captionHeight(tiles.captions.empty() ? -1 : options_.widestCaption, l.tileW)
                                                                         : captionHeight(tiles, l.tileW);
    l.titleH = tiles.title.empty() ? 0 : 24;
    l.width = options_.width > 0 ? options_.width : options_.gap + l.columns * (l.tileW + options_.gap);
    l.width = std::max(l.width, options_.gap + l.columns * (l.tileW + options_.gap));
    l.height = l.titleH + options_.gap + l.rows * (l.tileH + l.captionH + options_.gap);
    return l;
}

QRect TileGridRenderer::tileRect(const TileSet &tiles, int index) const
{
    const Layout l = layout(tiles);
    const int col = index % l.columns, row = index / l.columns;
    return QRect(options_.gap + col * (l.tileW + options_.gap),
                 l.titleH + options_.gap + row * (l.tileH + l.captionH + options_.gap), l.tileW, l.tileH);
}

int TileGridRenderer::tileAt(const TileSet &tiles, QPoint pos) const
{
    const Layout l = layout(tiles);
    const int col = (pos.x() - options_.gap) / (l.tileW + options_.gap);
    const int row = (pos.y() - l.titleH - options_.gap) / (l.tileH + l.captionH + options_.gap);
    if (pos.x() < options_.gap || pos.y() < l.titleH + options_.gap || col >= l.columns)
        return -1;
    const int index = row * l.columns + col;
    return index < tiles.count() && tileRect(tiles, index).contains(pos) ? index : -1;
}

QImage TileGridRenderer::tileImage(const TileSet &tiles, std::int64_t index)
{
    torch::Tensor t = tiles.values[index].contiguous();
    const int c = static_cast<int>(t.size(0)), h = static_cast<int>(t.size(1)), w = static_cast<int>(t.size(2));
    QImage img(w, h, QImage::Format_RGB32);
    const float *data = t.data_ptr<float>();
    static const Colormap viridis(Colormap::Name::Viridis), diverging(Colormap::Name::Diverging);
    for (int y = 0; y < h; ++y) {
        auto *line = reinterpret_cast<QRgb *>(img.scanLine(y));
        for (int x = 0; x < w; ++x) {
            const int p = y * w + x;
            if (tiles.kind == TileValues::Color && c == 3) {
                auto v = [&](int ch) { return static_cast<int>(std::clamp(data[ch * h * w + p], 0.0f, 1.0f) * 255 + 0.5f); };
                line[x] = qRgb(v(0), v(1), v(2));
            } else if (tiles.kind == TileValues::Signed) {
                line[x] = diverging.at(0.5f + 0.5f * data[p]);
            } else {
                line[x] = viridis.at(data[p]);
            }
        }
    }
    return img;
}

void TileGridRenderer::paint(QPainter &painter, const TileSet &tiles, const Layout &l) const
{
    painter.fillRect(QRect(0, 0, l.width, l.height), options_.background);
    painter.setPen(options_.text);
    if (l.titleH) {
        QFont f = painter.font();
        f.setPixelSize(14);
        painter.setFont(f);
        painter.drawText(QRect(options_.gap + 2, 0, l.width - 2 * options_.gap, l.titleH),
                         Qt::AlignVCenter | Qt::AlignLeft, QString::fromStdString(tiles.title));
    }
    painter.setFont(captionFont());
    painter.setRenderHint(QPainter::SmoothPixmapTransform, l.smooth);
    for (int64_t i = 0; i < tiles.count(); ++i) {
        const int col = static_cast<int>(i % l.columns), row = static_cast<int>(i / l.columns);
        const int x = options_.gap + col * (l.tileW + options_.gap);
        const int y = l.titleH + options_.gap + row * (l.tileH + l.captionH + options_.gap); // as tileRect()
        painter.drawImage(QRect(x, y, l.tileW, l.tileH), tileImage(tiles, i));
        if (l.captionH && i < static_cast<int64_t>(tiles.captions.size())) {
            const QStringList lines = captionLines(QString::fromStdString(tiles.captions[i]), l.tileW + options_.gap);
            for (int k = 0; k < lines.size(); ++k)
                painter.drawText(QRect(x - options_.gap / 2, y + l.tileH + k * kCaptionLine, l.tileW + options_.gap, kCaptionLine),
                                 Qt::AlignCenter | Qt::TextDontClip, lines[k]);
        }
    }
}

int TileGridRenderer::widestCaption(const TileSet &tiles)
{
    if (tiles.captions.empty())
        return -1;
    const QFontMetrics fm(captionFont());
    int widest = 0;
    for (const std::string &c : tiles.captions)
        widest = std::max(widest, fm.horizontalAdvance(QString::fromStdString(c)));
    return widest;
}

int TileGridRenderer::captionHeight(int widestCaption, int tileWidth)
{
    if (tileWidth < 24 || widestCaption < 0)
        return 0;
    return widestCaption > tileWidth ? 2 * kCaptionLine + 1 : kCaptionLine + 1;
}

int TileGridRenderer::captionHeight(const TileSet &tiles, int tileWidth)
{
    return captionHeight(widestCaption(tiles), tileWidth);
}

int TileGridRenderer::cutCaptions(const TileSet &tiles) const
{
    const Layout l = layout(tiles);
    if (!l.captionH)
        return tiles.captions.empty() ? 0 : static_cast<int>(std::min<int64_t>(tiles.count(), tiles.captions.size()));
    int n = 0;
    for (const std::string &c : tiles.captions) {
        bool cut = false;
        captionLines(QString::fromStdString(c), l.tileW + options_.gap, &cut);
        n += cut;
    }
    return n;
}

QImage TileGridRenderer::render(const TileSet &tiles) const
{
    const Layout l = layout(tiles);
    if (static_cast<int64_t>(l.width) * l.height > 400'000'000)
        throw UsageError("the grid would be " + std::to_string(l.width) + "×" + std::to_string(l.height) +
                         " pixels; choose a smaller width");
    QImage img(l.width, l.height, QImage::Format_RGB32);
    QPainter painter(&img);
    paint(painter, tiles, l);
    return img;
}

void TileGridRenderer::write(const TileSet &tiles, const QString &path) const
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "svg") {
        const Layout l = layout(tiles);
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(QSize(l.width, l.height));
        svg.setViewBox(QRect(0, 0, l.width, l.height));
        svg.setTitle(QString::fromStdString(tiles.title));
        svg.setDescription("Convscope tile grid");
        QPainter painter;
        if (!painter.begin(&svg))
            throw IoError("cannot write '" + path.toStdString() + "'");
        paint(painter, tiles, l);
        painter.end();
        if (!QFileInfo(path).isFile() || QFileInfo(path).size() == 0)
            throw IoError("cannot write '" + path.toStdString() + "'");
        return;
    }
    if (suffix != "png" && suffix != "jpg" && suffix != "jpeg" && suffix != "bmp" && suffix != "webp")
        throw UsageError("cannot export a grid as '." + suffix.toStdString() + "' (use .png or .svg)");
    if (!render(tiles).save(path))
        throw IoError("cannot write '" + path.toStdString() + "' (folder missing or not writable?)");
}

} // namespace convscope
