#pragma once
// The Feature Evolution window: the checkpoints of one training run scanned against the open dataset
// (FeatureEvolution, in the background with progress and Stop; each scan stored in the dataset's project, so the
// Units tab's checkpoint slider shows them), then the stability chart — per layer, how many of each unit's top
// images survive from one checkpoint to the next, or are already those of the last checkpoint (which layers settle
// first) — and the figure for a chosen layer: its strongest units' top patches, one column per checkpoint.
// Both export from their context menus / the Export button (PNG or SVG).
#include "evolution/CheckpointSeries.h"

#include <QImage>
#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace convscope {

class FeatureEvolution;
class JobLane;
class TileGridView;

class EvolutionPanel : public QWidget {
    Q_OBJECT
public:
    explicit EvolutionPanel(QWidget *parent = nullptr);
    ~EvolutionPanel() override;

    void setCheckpoints(const CheckpointSeries &series);
    void setDataset(const QString &dataset);
    /// Images of the dataset each checkpoint is scanned on (0 = all).
    void setImageLimit(int images);
    /// Scans every checkpoint (reusing stored scans), then shows the chart and the figure.
    void run();
    void stop();
    bool running() const;

    /// The layer of the figure (a path of the scanned layers); selects it in the layer box.
    void showLayer(const QString &path);

    QComboBox *layerBox() const { return layer_; }
    QComboBox *chartBox() const { return chartKind_; }
    QLabel *chart() const { return chart_; }
    QImage chartImage() const { return chartImage_; }
    TileGridView *figure() const { return figure_; }
    QString status() const;
    /// The evolution computed last (null before the first run ends).
    std::shared_ptr<const FeatureEvolution> evolution() const { return evolution_; }

Q_SIGNALS:
    /// A run finished, stopped or failed.
    void finished();
    /// The figure for the chosen layer is shown.
    void figureShown();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void showChart();
    void showFigure();
    void exportChart();
    void setWorking(bool working);

    CheckpointSeries series_;
    QString dataset_;
    std::shared_ptr<const FeatureEvolution> evolution_;
    JobLane *jobs_, *figureJobs_;
    QLabel *checkpoints_, *datasetLabel_, *status_, *chart_;
    QSpinBox *limit_;
    QPushButton *run_, *stop_, *exportChart_;
    QProgressBar *progress_;
    QComboBox *chartKind_, *layer_;
    TileGridView *figure_;
    QImage chartImage_;
};

} // namespace convscope
