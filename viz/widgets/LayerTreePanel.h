#pragma once
// The model's layers as a tree with type, output shape and parameters, filterable by name and by kind.
// Selecting a layer selects it in the workspace (which drives every panel).
#include "jobs/Workspace.h"

#include <QWidget>

class QComboBox;
class QLineEdit;
class QSortFilterProxyModel;
class QTreeView;

namespace convscope {

class LayerTreeModel;

class LayerTreePanel : public QWidget {
    Q_OBJECT
public:
    explicit LayerTreePanel(Workspace *workspace, QWidget *parent = nullptr);
    QTreeView *view() const { return view_; }

private:
    void applyFilter();
    void showSelection(int layer);
    Workspace *workspace_;
    LayerTreeModel *model_;
    QSortFilterProxyModel *proxy_;
    QTreeView *view_;
    QLineEdit *search_;
    QComboBox *kind_;
};

} // namespace convscope
