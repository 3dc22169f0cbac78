#pragma once
// Thumbnails of every dataset image with labels, filterable by label; activating one makes it the input.
#include "jobs/Workspace.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QListView;
class QSortFilterProxyModel;

namespace convscope {

class DatasetModel;

class DatasetBrowser : public QWidget {
    Q_OBJECT
public:
    explicit DatasetBrowser(Workspace *workspace, QWidget *parent = nullptr);
    QListView *view() const { return view_; }
    DatasetModel *model() const { return model_; }

private:
    void reload();
    Workspace *workspace_;
    DatasetModel *model_;
    QSortFilterProxyModel *proxy_;
    QListView *view_;
    QComboBox *filter_;
    QLabel *info_;
};

} // namespace convscope
