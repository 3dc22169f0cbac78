#include "widgets/LayerTreePanel.h"

#include "widgets/LayerTreeModel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QVBoxLayout>

namespace convscope {

namespace {
/// Keeps rows whose name matches the text AND whose kind matches the chosen kind (parents of matches stay).
class LayerFilter : public QSortFilterProxyModel {
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    QString kind;
    QString text;
    void refresh() { invalidateFilter(); }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        const QModelIndex i = sourceModel()->index(row, 0, parent);
        if (!kind.isEmpty() && i.data(LayerTreeModel::KindRole).toString() != kind)
            return false;
        return text.isEmpty() || i.data(Qt::DisplayRole).toString().contains(text, Qt::CaseInsensitive) ||
               i.data(Qt::ToolTipRole).toString().section('\n', 0, 0).contains(text, Qt::CaseInsensitive);
    }
};
} // namespace

LayerTreePanel::LayerTreePanel(Workspace *workspace, QWidget *parent)
    : QWidget(parent), workspace_(workspace), model_(new LayerTreeModel(this)), proxy_(new LayerFilter(this)),
      view_(new QTreeView), search_(new QLineEdit), kind_(new QComboBox)
{
    proxy_->setSourceModel(model_);
    proxy_->setRecursiveFilteringEnabled(true);
    view_->setModel(proxy_);
    view_->setUniformRowHeights(true);
    view_->setAlternatingRowColors(true);
    view_->header()->setStretchLastSection(false);
    view_->setIndentation(12);
    // Every column as wide as its contents (names are never cut; the tree scrolls sideways when the dock is narrow).
    view_->header()->setMinimumSectionSize(36);
    for (int c = 0; c < LayerTreeModel::ColumnCount; ++c)
        view_->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    view_->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    search_->setPlaceholderText(tr("Filter layers by name…"));
    search_->setClearButtonEnabled(true);
    kind_->addItem(tr("All kinds"), QString());
    for (const char *k : {"conv", "linear", "activation", "pool", "norm", "block", "other"})
        kind_->addItem(k, QString(k));
    auto *bar = new QHBoxLayout;
    bar->addWidget(search_, 1);
    bar->addWidget(kind_);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(view_);

    connect(search_, &QLineEdit::textChanged, this, &LayerTreePanel::applyFilter);
    connect(kind_, &QComboBox::currentIndexChanged, this, &LayerTreePanel::applyFilter);
    connect(workspace_, &Workspace::modelChanged, this, [this] {
        model_->setModel(workspace_->model());
        view_->expandToDepth(0);
    });
    connect(workspace_, &Workspace::layerChanged, this, &LayerTreePanel::showSelection);
    connect(view_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex &current) {
        if (current.isValid())
            workspace_->selectLayer(current.data(LayerTreeModel::IndexRole).toInt());
    });
}

void LayerTreePanel::applyFilter()
{
    auto *filter = static_cast<LayerFilter *>(proxy_);
    filter->text = search_->text();
    filter->kind = kind_->currentData().toString();
    filter->refresh();
    if (!filter->text.isEmpty() || !filter->kind.isEmpty())
        view_->expandAll();
}

void LayerTreePanel::showSelection(int layer)
{
    const QModelIndex at = proxy_->mapFromSource(model_->indexOfLayer(layer));
    if (at.isValid() && view_->currentIndex() != at) {
        view_->setCurrentIndex(at);
        view_->scrollTo(at);
    }
}

} // namespace convscope
