#pragma once
// Writes a drawing to a .png or .svg file, chosen by the file's suffix: the one place charts and figures that are
// painted with QPainter become files (white background, the title in the SVG's metadata).
#include <QSize>
#include <QString>

#include <functional>

class QPainter;

namespace convscope {

class PaintedFile {
public:
    /// Paints with `paint` on a `size` area and writes `path`. Throws UsageError for a suffix other than png/svg,
    /// IoError when the file cannot be written.
    static void write(const QString &path, QSize size, const QString &title,
                      const std::function<void(QPainter &)> &paint);
};

} // namespace convscope
