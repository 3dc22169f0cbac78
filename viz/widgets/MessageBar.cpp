#include "widgets/MessageBar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QToolButton>

namespace convscope {

namespace {
const char *kErrorStyle = "convscope--MessageBar { background: #5c2b29; border-radius: 4px; } QLabel { color: #f6d7d5; }";
const char *kNoticeStyle = "convscope--MessageBar { background: #1f3a5c; border-radius: 4px; } QLabel { color: #d7e6f6; }";
} // namespace

MessageBar::MessageBar(QWidget *parent) : QFrame(parent), label_(new QLabel), action_(new QPushButton)
{
    setStyleSheet(kErrorStyle);
    setObjectName("messageBar");
    label_->setWordWrap(true);
    label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *close = new QToolButton;
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 4, 4, 4);
    layout->addWidget(label_, 1);
    layout->addWidget(action_);
    layout->addWidget(close);
    action_->hide();
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    connect(action_, &QPushButton::clicked, this, [this] {
        const auto act = act_; // the action may show another message, replacing act_
        hide();
        if (act)
            act();
    });
    hide();
}

void MessageBar::showError(const QString &message)
{
    setStyleSheet(kErrorStyle);
    action_->hide();
    act_ = {};
    label_->setText(message);
    show();
}

void MessageBar::showNotice(const QString &message, const QString &action, std::function<void()> act)
{
    setStyleSheet(kNoticeStyle);
    action_->setText(action);
    action_->setVisible(!action.isEmpty());
    act_ = std::move(act);
    label_->setText(message);
    show();
}

QString MessageBar::text() const
{
    return isVisible() ? label_->text() : QString();
}

} // namespace convscope
