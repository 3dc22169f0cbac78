#include "widgets/MessageBar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace convscope {

MessageBar::MessageBar(QWidget *parent) : QFrame(parent), label_(new QLabel)
{
    setStyleSheet("convscope--MessageBar { background: #5c2b29; border-radius: 4px; } QLabel { color: #f6d7d5; }");
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
    layout->addWidget(close);
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    hide();
}

void MessageBar::showError(const QString &message)
{
    label_->setText(message);
    show();
}

QString MessageBar::text() const
{
    return isVisible() ? label_->text() : QString();
}

} // namespace convscope
