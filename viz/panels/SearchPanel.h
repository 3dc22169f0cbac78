#pragma once
// Similar-image search in the window: build a descriptor index of the dataset (layer, fc / SPoC / MAC, PCA size,
// exact or approximate) in the background, then every input becomes a query — or a rectangle dragged on it (search
// by region). Results are a grid with distances and labels (click one to open it as the input); for pooled conv
// descriptors, "why similar" lists the channels that contribute most (click one to see its top-9 patches in the
// Units tab). "Which layer describes best" evaluates mAP and precision@10 per layer × descriptor × PCA size and
// shows them as a table and a chart; "Which layer classifies best" trains linear probes on each layer's stored
// features (LayerProbe) and shows their accuracy (ProbeResultsView; clicking a layer selects it everywhere).
#include "jobs/JobLane.h"
#include "search/RetrievalEvaluator.h"

#include <QPointer>
#include <QWidget>

#include <torch/types.h>

#include <memory>

class QChartView;
class QComboBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTabWidget;
class QToolButton;

namespace convscope {

class AdaptPanel;
class DescriptorIndex;
class Model;
class ProbeResultsView;
class TileGridView;
class Workspace;

class SearchPanel : public QWidget {
    Q_OBJECT
public:
    explicit SearchPanel(Workspace *workspace, QWidget *parent = nullptr);
    ~SearchPanel() override;

    /// Builds an index with the chosen settings (in the background).
    void buildIndex();
    /// Searches with the current input, or with its region (x, y, w, h in the model-input pixels) when not empty.
    void search(QRect region = {});
    /// Evaluates every layer × descriptor × PCA size of the project (in the background).
    void evaluate();
    /// Trains the linear probes on every layer with stored features (in the background).
    void classify();
    /// Opens the Adapt window (descriptor adaptation to the dataset's classes) for the project.
    void adapt();
    /// The Adapt window, once opened (tests).
    AdaptPanel *adaptWindow() const;

    TileGridView *results() const { return results_; }
    QListWidget *why() const { return why_; }
    QTableWidget *table() const { return table_; }
    ProbeResultsView *probeResults() const { return probeView_; }
    QComboBox *indexBox() const { return index_; }
    QComboBox *layerBox() const { return layer_; }
    QComboBox *descriptorBox() const { return descriptor_; }
    QComboBox *annBox() const { return ann_; }
    QSpinBox *pcaBox() const { return pca_; }
    QLabel *status() const { return status_; }
    bool busy() const;
    void waitForIdle();
    /// Stops a running index build or evaluation (Stop button).
    void stop();

Q_SIGNALS:
    /// "DATASET#INDEX": the user wants this image as the input.
    void openImage(const QString &reference);
    /// The user wants a unit's top-9 patches (layer path, channel).
    void showUnit(const QString &layer, int channel);
    /// A search, build or evaluation finished (tests).
    void updated();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    QString project() const;
    void refreshIndexes();
    void refreshLayers();
    void showWhy(int result);
    void drawQuery();
    void layOut();
    void openIndex();
    void showEvaluation(const std::vector<RetrievalEvaluator::Row> &rows);
    /// Shows or hides the progress bar and Stop of a build or evaluation.
    void setWorking(bool working);

    Workspace *workspace_;
    /// One lane per kind of work: opening an index, searching, building, evaluating, probing.
    JobLane *openJobs_, *searchJobs_, *buildJobs_, *evalJobs_, *probeJobs_;
    QComboBox *index_, *layer_, *descriptor_, *ann_;
    QSpinBox *pca_, *k_;
    QPushButton *build_, *evaluate_, *classify_, *adapt_, *openResult_;
    QProgressBar *progress_;
    QToolButton *stop_;
    QLabel *status_, *query_, *whyTitle_;
    TileGridView *results_;
    QListWidget *why_;
    QTableWidget *table_;
    QChartView *chart_;
    ProbeResultsView *probeView_;
    QTabWidget *lowerTabs_;
    std::shared_ptr<const DescriptorIndex> open_;
    /// The model that describes queries for the open index: its own when it was built by another model (an
    /// adapted descriptor's), else none (the workspace's model).
    std::shared_ptr<const Model> indexModel_;
    QPointer<AdaptPanel> adaptWindow_;
    torch::Tensor stored_; ///< the open index's dataset features (raw, a row per image)
    struct Found;
    std::shared_ptr<Found> found_;
    QRect region_;
    int selected_ = -1;
    QPoint dragStart_;
};

} // namespace convscope
