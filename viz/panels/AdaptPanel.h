#pragma once
// "Adapt…" from the Search tab, in a window of its own: adapts a layer's descriptor to the dataset's classes
// (DescriptorAdaptation: a projection head trained with a contrastive or triplet loss on the stored features) in
// the background — a live chart of the loss and of the test mAP per epoch against the original descriptor's, Stop
// (the finished epochs are kept; Train again resumes) — then the before/after table and the before/after results
// for the same test queries. The adapted index joins the Search tab's index list (adapted()).
#include "jobs/JobLane.h"
#include "search/DescriptorAdaptation.h"

#include <QWidget>

class QChartView;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace convscope {

class TileGridView;
class Workspace;

class AdaptPanel : public QWidget {
    Q_OBJECT
public:
    /// `project`: the dataset's project folder (scanned, with labels).
    AdaptPanel(Workspace *workspace, QString project, QWidget *parent = nullptr);
    ~AdaptPanel() override;

    /// Starts (or resumes, when an adaptation of that name exists) training with the options shown.
    void train();
    /// Stops after the current step; the finished epochs stay saved.
    void stop();
    /// The options shown in the form (as train() uses them).
    DescriptorAdaptation::Options options() const;

    QComboBox *layerBox() const { return layer_; }
    QComboBox *splitBox() const { return split_; }
    QLineEdit *classesEdit() const { return classes_; }
    QLineEdit *nameEdit() const { return name_; }
    QSpinBox *epochsBox() const { return epochs_; }
    QSpinBox *fineTuneBox() const { return tune_; }
    QTableWidget *table() const { return table_; }
    QChartView *chart() const { return chart_; }
    TileGridView *examples() const { return examples_; }
    QLabel *status() const { return status_; }
    bool busy() const { return jobs_->active(); }
    void waitForIdle() { jobs_->waitForIdle(); }

Q_SIGNALS:
    /// The adapted index `name` is saved in the project.
    void adapted(const QString &name);
    /// Training ended (done, stopped or failed) or an epoch finished (tests).
    void updated();

private:
    void layOut();
    void fillLayers();
    void setWorking(bool working);
    void showEpochs();
    void showTable(const std::vector<DescriptorAdaptation::Row> &rows);

    Workspace *workspace_;
    QString project_;
    JobLane *jobs_;
    QComboBox *layer_, *descriptor_, *loss_, *mining_, *split_;
    QDoubleSpinBox *margin_, *fraction_;
    QSpinBox *epochs_, *dims_, *tune_;
    QLineEdit *classes_, *name_;
    QPushButton *train_, *stop_;
    QProgressBar *progress_;
    QLabel *status_;
    QChartView *chart_;
    QTableWidget *table_;
    TileGridView *examples_;
    double beforeMap_ = 0;
    std::vector<DescriptorAdaptation::EpochRecord> epochs_done_;
};

} // namespace convscope
