#pragma once
// Help ▸ Getting Started (shown once at the first start): what each tab answers, the one thing to try first, how to
// bring one's own model and images, the keyboard shortcuts (read from the window's menus, so they never go stale)
// and where the command line is. "Scan the dataset now" starts the Units tab's scan.
#include <QDialog>
#include <QList>

class QAction;
class QCheckBox;
class QTabWidget;

namespace convscope {

class GuideDialog : public QDialog {
    Q_OBJECT
public:
    /// `actions`: the menu actions whose shortcuts are listed.
    GuideDialog(const QList<QAction *> &actions, bool showAtStart, QWidget *parent = nullptr);
    /// Shows "Scan the dataset now" (a model and a dataset are open and not scanned) or hides it.
    void setScanAvailable(bool available);
    /// Shows the keyboard shortcuts page.
    void showShortcuts();
    bool showAtStart() const;
    /// The text of the getting-started page (tests).
    QString text() const;

Q_SIGNALS:
    void scanRequested();

private:
    QTabWidget *pages_;
    QCheckBox *atStart_;
    class QPushButton *scan_;
    QString text_;
};

} // namespace convscope
