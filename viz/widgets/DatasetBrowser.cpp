#include "widgets/DatasetBrowser.h"

#include "jobs/JobLane.h"
#include "scan/ProjectStore.h"
#include "widgets/DatasetModel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QSortFilterProxyModel>
#include <QVBoxLayout>

namespace convscope {

DatasetBrowser::DatasetBrowser(Workspace *workspace, QWidget *parent)
    : QWidget(parent), workspace_(workspace), model_(new DatasetModel(this)), proxy_(new QSortFilterProxyModel(this)),
      view_(new QListView), filter_(new QComboBox), info_(new QLabel), skippedJobs_(new JobLane(this))
{
    proxy_->setSourceModel(model_);
    proxy_->setFilterRole(DatasetModel::LabelRole);
    view_->setModel(proxy_);
    view_->setViewMode(QListView::IconMode);
    view_->setResizeMode(QListView::Adjust);
    view_->setMovement(QListView::Static);
    view_->setUniformItemSizes(true);
    view_->setLayoutMode(QListView::Batched);
    view_->setBatchSize(500);
    view_->setIconSize(QSize(model_->thumbnailSize(), model_->thumbnailSize()));
    // Room for "Ankle boot" or a short file name under each thumbnail; longer names are cut in the middle (the
    // start and the number at the end stay), the whole name in the tooltip.
    view_->setGridSize(QSize(model_->thumbnailSize() + 34, model_->thumbnailSize() + 24));
    view_->setSpacing(2);
    view_->setWordWrap(false);
    view_->setTextElideMode(Qt::ElideMiddle);
    view_->setToolTip(tr("Double-click an image to run the model on it"));
    filter_->setMinimumWidth(160);
    view_->setMinimumHeight(model_->thumbnailSize() + 40); // a row of thumbnails at least
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Label")));
    bar->addWidget(filter_);
    bar->addStretch();
    bar->addWidget(info_);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(view_);

    connect(workspace_, &Workspace::datasetChanged, this, &DatasetBrowser::reload);
    connect(workspace_, &Workspace::modelChanged, this, &DatasetBrowser::reload);
    connect(filter_, &QComboBox::currentIndexChanged, this, [this] {
        const int label = filter_->currentData().toInt();
        proxy_->setFilterRegularExpression(label < 0 ? QString() : QString("^%1$").arg(label));
        while (label >= 0 && model_->canFetchMore({}))
            model_->fetchMore({}); // filtering needs every row
    });
    connect(model_, &DatasetModel::unusableChanged, this, &DatasetBrowser::updateInfo);
    connect(view_, &QListView::activated, this, [this](const QModelIndex &index) {
        workspace_->setInputFromDataset(index.data(DatasetModel::IndexRole).toLongLong());
    });
    reload();
}

void DatasetBrowser::reload()
{
    auto source = workspace_->dataset();
    QStringList labels;
    if (source && !source->classNames().empty()) {
        for (const auto &c : source->classNames())
            labels << QString::fromStdString(c);
    } else if (auto model = workspace_->model()) {
        for (int i = 0; i < model->numClasses(); ++i)
            labels << QString::fromStdString(model->label(i));
    }
    model_->setSource(source, labels);
    const QSignalBlocker block(filter_);
    filter_->clear();
    filter_->addItem(tr("All"), -1);
    for (int i = 0; i < labels.size(); ++i)
        filter_->addItem(labels[i], i);
    updateInfo();
}

void DatasetBrowser::updateInfo()
{
    auto source = workspace_->dataset();
    QString text = source ? QString::fromStdString(source->description()) : tr("No dataset open");
    if (const int bad = model_->unusableCount(); bad > 0)
        text += tr(" · %n cannot be used (red tiles: hover for why)", nullptr, bad);
    info_->setText(text);
}

QString DatasetBrowser::infoText() const
{
    return info_->text();
}

void DatasetBrowser::showSkipped(const QString &project, qint64 scanId)
{
    const auto source = workspace_->dataset();
    skippedJobs_->run<std::vector<SkippedImage>>(
        [project, scanId] { return ProjectStore(project.toStdString()).skipped(scanId); },
        [this, source](std::vector<SkippedImage> &skipped) {
            if (source != workspace_->dataset())
                return; // another dataset was opened meanwhile
            for (const auto &s : skipped)
                model_->markUnusable(s.index, QString::fromStdString(s.reason));
        });
}

} // namespace convscope
