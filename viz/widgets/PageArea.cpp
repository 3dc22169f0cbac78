#include "widgets/PageArea.h"

#include <QEvent>
#include <QLayout>

#include <algorithm>

namespace convscope {

PageArea::PageArea(QWidget *page, QWidget *parent) : QScrollArea(parent)
{
    setFrameShape(QFrame::NoFrame);
    setWidgetResizable(false); // fit() sizes the page
    setWidget(page);
    page->installEventFilter(this);
    fit();
}

bool PageArea::viewportEvent(QEvent *event)
{
    if (event->type() == QEvent::Resize) // the window, or a scroll bar that came or went
        fit();
    return QScrollArea::viewportEvent(event);
}

bool PageArea::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == widget() && event->type() == QEvent::LayoutRequest) // the page's minimum may have changed
        fit();
    return QScrollArea::eventFilter(watched, event);
}

void PageArea::fit()
{
    QWidget *page = widget();
    if (!page)
        return;
    const QSize least = page->minimumSizeHint().expandedTo(page->minimumSize());
    const QSize room = viewport()->size();
    const int width = std::max(room.width(), least.width());
    int height = least.height();
    // Word-wrapped text needs more lines when narrow: the least height at this width (not the preferred one).
    if (QLayout *layout = page->layout(); layout && layout->hasHeightForWidth())
        height = std::max(height, layout->totalMinimumHeightForWidth(width));
    const QSize size(width, std::max(room.height(), height));
    if (page->size() != size)
        page->resize(size);
}

} // namespace convscope
