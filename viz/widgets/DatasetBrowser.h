#pragma once
// Thumbnails of every dataset image with labels, filterable by label; activating one makes it the input. The line
// above says how many images cannot be used (the model's red tiles: found while decoding thumbnails, or listed by
// a scan shown in the Units tab), so the browser and the scan agree on the usable images.
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
    /// Marks the images scan `scanId` of `project` skipped (read on a worker), with the scan's reasons.
    void showSkipped(const QString &project, qint64 scanId);
    /// The line above the thumbnails (tests).
    QString infoText() const;

private:
    void reload();
    void updateInfo();
    Workspace *workspace_;
    DatasetModel *model_;
    QSortFilterProxyModel *proxy_;
    QListView *view_;
    QComboBox *filter_;
    QLabel *info_;
    JobLane *skippedJobs_;
};

} // namespace convscope
