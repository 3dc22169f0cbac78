#include "widgets/AppStyle.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QPalette>
#include <QStyleFactory>

namespace convscope {

void AppStyle::apply(QApplication &app)
{
    app.setStyle(QStyleFactory::create("Fusion"));
    QPalette p;
    const QColor window(45, 46, 50), base(32, 33, 36), text(232, 234, 237), accent(38, 130, 142);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(40, 41, 45));
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::Highlight, accent);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Dark, QColor(24, 25, 27));
    p.setColor(QPalette::PlaceholderText, QColor(150, 150, 150));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(120, 120, 120));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(120, 120, 120));
    app.setPalette(p);
}

void AppStyle::showChart(QChartView *view, QChart *chart)
{
    chart->setTheme(QChart::ChartThemeDark);
    chart->legend()->setAlignment(Qt::AlignBottom);
    QChart *old = view->chart();
    view->setChart(chart);
    delete old;
}

void AppStyle::clearChart(QChartView *view, const QString &hint)
{
    auto *chart = new QChart;
    chart->setTheme(QChart::ChartThemeDark);
    chart->setTitle(hint);
    chart->legend()->hide();
    QChart *old = view->chart();
    view->setChart(chart);
    delete old;
    view->setBackgroundBrush(chart->backgroundBrush());
}

} // namespace convscope
