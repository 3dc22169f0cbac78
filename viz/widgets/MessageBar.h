#pragma once
// A dismissable one-line message at the top of the window for errors (bad model, unreadable image) and notices
// (an assumption the user should check, with a button that opens the place to fix it): visible, never modal.
#include <QFrame>

#include <functional>

class QLabel;
class QPushButton;

namespace convscope {

class MessageBar : public QFrame {
    Q_OBJECT
public:
    explicit MessageBar(QWidget *parent = nullptr);
    void showError(const QString &message);
    /// A notice (not an error) with an optional button (`action` names it; it runs `act` and dismisses the bar).
    void showNotice(const QString &message, const QString &action = {}, std::function<void()> act = {});
    QString text() const;
    /// The notice's button (tests).
    QPushButton *actionButton() const { return action_; }

private:
    QLabel *label_;
    QPushButton *action_;
    std::function<void()> act_;
};

} // namespace convscope
