#pragma once
// A tab page that scrolls only when the window is smaller than the page's minimum size. QScrollArea's own
// "widget resizable" mode sizes a page whose layout holds a word-wrapped label by its height-for-width — its
// preferred height, not its minimum — so such a page scrolled at 1280×800 although it fits. This one gives the page
// the viewport's size, or its minimum size where that is larger.
#include <QScrollArea>

namespace convscope {

class PageArea : public QScrollArea {
    Q_OBJECT
public:
    explicit PageArea(QWidget *page, QWidget *parent = nullptr);

protected:
    bool viewportEvent(QEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void fit();
};

} // namespace convscope
