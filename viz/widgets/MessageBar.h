#pragma once
// A dismissable one-line message at the top of the window for errors (bad model, unreadable image):
// visible, never modal, never a crash.
#include <QFrame>

class QLabel;

namespace convscope {

class MessageBar : public QFrame {
    Q_OBJECT
public:
    explicit MessageBar(QWidget *parent = nullptr);
    void showError(const QString &message);
    QString text() const;

private:
    QLabel *label_;
};

} // namespace convscope
