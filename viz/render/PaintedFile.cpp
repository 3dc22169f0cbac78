#include "render/PaintedFile.h"

#include "common/Error.h"

#include <QFileInfo>
#include <QImage>
#include <QPainter>
#include <QSvgGenerator>

namespace convscope {

void PaintedFile::write(const QString &path, QSize size, const QString &title,
                        const std::function<void(QPainter &)> &paint)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const QString cannot = "cannot write '" + path + "'";
    if (suffix == "svg") {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(title);
        svg.setDescription("Convscope");
        QPainter painter;
        if (!painter.begin(&svg))
            throw IoError(cannot.toStdString());
        painter.fillRect(QRect(QPoint(0, 0), size), Qt::white);
        paint(painter);
        painter.end();
    } else if (suffix == "png") {
        QImage image(size, QImage::Format_RGB32);
        image.fill(Qt::white);
        {
            QPainter painter(&image);
            painter.setRenderHint(QPainter::Antialiasing);
            paint(painter);
        }
        if (!image.save(path))
            throw IoError(cannot.toStdString());
    } else {
        throw UsageError("the chart is written as .png or .svg, not '" + path.toStdString() + "'");
    }
    if (!QFileInfo(path).isFile() || QFileInfo(path).size() == 0)
        throw IoError(cannot.toStdString());
}

} // namespace convscope
