#pragma once
// The layer view of a dataset scan: every unit of a scanned layer as a mosaic of its top-9 patches (the classic
// figure), sortable (unit, strongest, most class-selective, dead first) and filterable (hide dead units); click a
// unit for its patches large with image, label, value and position, and its max-response images with the unit's
// response overlaid; click any of those to open that image as the input of the activations panel.
// "Projections" adds each patch's deconvnet / guided-backprop / gradient projection beside it (Zeiler & Fergus's
// two-column figure), for the unit and — in the background, with progress and Stop — for the whole layer; projections
// are cached in the project. Below them, images synthesised to excite the unit (SynthesisStrip), for the unit or the
// whole layer, compared with the unit's best dataset image.
// Scans run from here (ScanController: progress, cancel, resume); finished scans of the current model and dataset
// are found and shown when they are opened. All loading and rendering runs on worker threads.
#include "evolution/CheckpointSeries.h"
#include "explain/BackpropRule.h"
#include "jobs/JobLane.h"
#include "jobs/ScanController.h"
#include "tiles/TileSet.h"
#include "scan/TopPatchSheets.h"

#include <QWidget>

#include <map>
#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSlider;
class QToolButton;

namespace convscope {

class Reconstructor;
class SynthesisStrip;
class TileGridView;
class Workspace;

class UnitsPanel : public QWidget {
    Q_OBJECT
public:
    explicit UnitsPanel(Workspace *workspace, QWidget *parent = nullptr);
    ~UnitsPanel() override;

    /// Scans the workspace's dataset with the workspace's model (default layers and features).
    void startScan();
    ScanController *scans() { return scans_; }
    /// Shows a scanned layer by its position in the scan; unit -1 clears the detail.
    void showLayer(int slot);
    void showUnit(std::int64_t unit);
    /// Shows a unit of a scanned layer by the layer's path (linked views: search, map). False if not scanned.
    bool showLayerUnit(const std::string &layerPath, std::int64_t unit);
    /// Checkpoints of the open model's training run: a slider above the grid switches the workspace's model between
    /// them, keeping the layer and unit shown (each checkpoint's stored scan is found as for any model).
    void setCheckpoints(const CheckpointSeries &series);
    const CheckpointSeries &checkpoints() const { return checkpoints_; }
    QSlider *checkpointSlider() const { return checkpointSlider_; }
    /// Looks for a stored scan of the open model and dataset again (after scans made elsewhere) and shows it.
    void lookForScan();
    /// lookForScan() only when no scan is shown and none runs (after scans made elsewhere): what the user is looking
    /// at, a running synthesis included, stays.
    void lookForScanIfIdle();
    /// The checkpoint shown (index into the series), -1 when the model is not one of them (or not yet known: files
    /// matched by content are hashed on a worker).
    int checkpoint() const { return checkpointIndex_; }
    /// Blocks until loading work is done (tests).
    void waitForIdle();
    /// True while a scan or a load runs.
    bool busy() const;
    /// True when a finished scan is shown.
    bool hasScan() const { return scanId_ >= 0; }

    TileGridView *grid() const { return grid_; }
    TileGridView *patches() const { return patches_; }
    TileGridView *images() const { return images_; }
    /// Images synthesised to excite the shown unit (or every unit of the layer).
    SynthesisStrip *synthesis() const { return synthesis_; }
    QComboBox *layerBox() const { return layer_; }
    QComboBox *sortBox() const { return sort_; }
    /// 0 = patches only, 1 = + deconvnet, 2 = + guided backprop, 3 = + gradient.
    QComboBox *projectionBox() const { return projection_; }
    /// True once the layer's projections (for the chosen method) are shown in the grid.
    bool layerProjected() const;
    QLabel *statusLabel() const { return status_; }
    /// The unit shown in each grid tile, in order.
    const std::vector<std::int64_t> &shownUnits() const { return shown_; }

Q_SIGNALS:
    /// "DATASET#INDEX": the user wants this image as the input.
    void openImage(const QString &reference);
    /// A layer or unit finished loading (tests).
    void loaded();
    /// A unit is shown: its top images (dataset indices, by maximum) — linked views ring them.
    void unitShown(const std::vector<std::int64_t> &images);
    /// Scan `scanId` of `project` (of the current model and dataset) is shown.
    void scanShown(const QString &project, qint64 scanId);
    /// The user asked for the Feature Evolution window (stability chart, figure) of the checkpoints.
    void evolutionRequested();

private:
    struct LayerData {
        int slot = -1;
        TileSet poster; ///< every unit, index order
        std::vector<TopPatchSheets::UnitSummary> summaries;
        std::vector<std::vector<TopKTracker::Entry>> byMax, byMean;
        std::map<int, TileSet> projected; ///< by BackpropRule: every unit, [projections | patches]
    };
    struct UnitData {
        std::int64_t unit = -1;
        TileSet patches, images;
    };
    void reset();
    /// The slider follows the open model: its position in the series, hidden when it is none of them.
    void followCheckpoint();
    /// Finds the open model in the series (by path at once, by content on a worker), then followCheckpoint().
    void indexCheckpoint();
    void switchCheckpoint(int index);
    void scanReady(const QString &project, qint64 scanId);
    void showScan(const QString &project, const ProjectStore::ScanInfo &info);
    void applyOrder();
    void setBusy(bool busy, const QString &text);
    void layOut();
    /// The scan's progress, end, stop and failure shown in the panel.
    void connectScans();
    /// The rule chosen in the projection box, or nothing for "patches only".
    std::optional<BackpropRule> projectionRule() const;
    void projectLayer();
    void stopProjection();
    /// The bar and Stop button shared by cropping a layer and projecting it.
    void showWorkBar(const QString &format, int total);
    void advanceWorkBar(std::int64_t done, std::int64_t total);
    void hideWorkBar();
    template <class T>
    void runJob(JobLane *lane, std::function<T()> work, std::function<void(T &)> done,
                std::function<void(const QString &)> failed = {});

    Workspace *workspace_;
    ScanController *scans_;
    QPushButton *scanButton_;
    QProgressBar *progress_;
    QToolButton *cancel_;
    QLabel *status_, *count_, *unitTitle_;
    QComboBox *layer_, *sort_;
    QCheckBox *hideDead_;
    TileGridView *grid_, *patches_, *images_;
    SynthesisStrip *synthesis_;
    QComboBox *projection_;
    QProgressBar *projectProgress_;
    QWidget *checkpointRow_;
    QSlider *checkpointSlider_;
    QLabel *checkpointLabel_;
    QPushButton *evolutionButton_;
    CheckpointSeries checkpoints_;
    std::string pendingLayerPath_; ///< layer to show once the checkpoint being opened arrives
    QToolButton *projectStop_;
    std::shared_ptr<const Reconstructor> reconstructor_;

    QString project_;
    qint64 scanId_ = -1;
    std::int64_t shownUnit_ = -1; ///< the unit whose detail is shown (framed in the grid)
    void highlightShownUnit();
    std::vector<std::string> scannedLayers_;
    std::shared_ptr<LayerData> layerData_;
    std::vector<std::int64_t> shown_;
    std::shared_ptr<UnitData> unitData_;
    std::int64_t pendingUnit_ = -1; ///< unit to show once the layer being loaded arrives
    int checkpointIndex_ = -1;      ///< the open model in checkpoints_, -1: not one of them
    /// One lane per kind of work: a newer request of a kind supersedes the older one.
    JobLane *lookJobs_, *layerJobs_, *unitJobs_, *projectJobs_, *orderJobs_, *checkpointJobs_;
};

} // namespace convscope
