#pragma once
// The Compare window: several models side by side on one labelled dataset (ModelComparison) — a table (name,
// format, parameters, multiply-adds, top-1/top-5, ms per image, images/s, peak memory, last receptive field, the
// multiply-add shares) filled in the background as each model is loaded, evaluated and timed, with Stop, and beside
// it the accuracy-against-multiply-adds chart (marker size by parameters). Models are added by file dialog or by
// dropping files on the window; double-clicking a row asks for that model to be opened in the main view.
#include "compare/ModelComparison.h"

#include <QWidget>

#include <vector>

class QChartView;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace convscope {

class JobLane;

class ComparePanel : public QWidget {
    Q_OBJECT
public:
    explicit ComparePanel(QWidget *parent = nullptr);

    /// Adds model files to the list (duplicates ignored); the table shows them as waiting.
    void addModels(const QStringList &paths);
    void setDataset(const QString &dataset);
    /// Images evaluated per model (0 = the whole dataset).
    void setImageLimit(int images);
    /// Timing rounds (each model runs in each round; medians shown). Tests use 1.
    void setRounds(int rounds);
    /// Starts comparing the listed models on the dataset (replacing a running comparison).
    void compare();
    void stop();

    QTableWidget *table() const { return table_; }
    QChartView *chart() const { return chart_; }
    const QStringList &models() const { return paths_; }
    const std::vector<ModelComparison::Row> &rows() const { return rows_; }
    bool running() const;
    QString status() const;

Q_SIGNALS:
    /// The user double-clicked this model's row.
    void openModelRequested(const QString &path);
    /// A comparison finished, stopped or failed.
    void finished();

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void showRows();
    void showChart();
    void setWorking(bool working);
    void chooseModels();
    void chooseDataset();
    void removeSelected();

    QStringList paths_;
    QString dataset_;
    int rounds_ = 3;
    std::vector<ModelComparison::Row> rows_;
    JobLane *jobs_;
    QLabel *datasetLabel_;
    QSpinBox *limit_;
    QPushButton *add_, *remove_, *chooseDataset_, *compare_, *stop_;
    QProgressBar *progress_;
    QLabel *status_;
    QTableWidget *table_;
    QChartView *chart_;
};

} // namespace convscope
