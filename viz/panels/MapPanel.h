#pragma once
// The dataset map tab: t-SNE or UMAP of a layer's features (from the project's scan, L2-normalised, PCA-reduced with
// the explained-variance curve shown) drawn as a MapView that animates while the optimisation runs (in the
// background, with Stop); colour by label, prediction, correctness or k-means cluster of the map; a rectangle or lasso
// selection shows its images in a grid; a click opens an image as the input; a unit shown in the Units tab has its
// top images ringed on the map. Export: coordinates (CSV, .npy), a poster PNG, a TensorBoard-projector bundle.
#include "jobs/JobLane.h"
#include "map/DatasetMap.h"

#include <QWidget>

#include <memory>

class QChartView;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace convscope {

class MapView;
class TileGridView;
class Workspace;

class MapPanel : public QWidget {
    Q_OBJECT
public:
    explicit MapPanel(Workspace *workspace, QWidget *parent = nullptr);
    ~MapPanel() override;

    /// Maps the chosen layer's features (in the background; the view animates).
    void startMap();
    void stop();
    /// Rings these dataset images on the map.
    void highlightImages(const std::vector<std::int64_t> &images);
    /// Writes the map: .csv (index,name,label,prediction,x,y), .npy (N×2), .png (poster at `width`) or .pbtxt
    /// (a TensorBoard-projector bundle in that file's folder).
    /// Written in the background from a snapshot of the map; exported() says when (throws UsageError at once when
    /// there is no finished map).
    void exportTo(const QString &path, int width);

    MapView *view() const { return view_; }
    TileGridView *selection() const { return selectionGrid_; }
    QComboBox *layerBox() const { return layer_; }
    QComboBox *colourBox() const { return colour_; }
    /// 0 = t-SNE, 1 = UMAP.
    QComboBox *methodBox() const { return method_; }
    QSpinBox *pcaBox() const { return pca_; }
    QChartView *varianceChart() const { return variance_; }
    QLabel *status() const { return status_; }
    /// Coordinate updates received while optimising (animation frames).
    int frames() const { return frames_; }
    bool busy() const { return jobs_->pending() + exportJobs_->pending() > 0; }
    void waitForIdle()
    {
        jobs_->waitForIdle();
        exportJobs_->waitForIdle();
    }

Q_SIGNALS:
    void openImage(const QString &reference);
    /// The map finished (tests).
    void finished();
    /// An export ended: written, or `error` says why not.
    void exported(const QString &path, const QString &error);

private:
    struct Points;
    static void writeMap(const QString &path, int width, const Points &points, const torch::Tensor &coords,
                         const torch::Tensor &features, const QString &methodTitle);
    QString project() const;
    void refreshLayers();
    void applyColours();
    void showMethodOptions();
    void layOut();
    /// The map's options as the controls set them.
    DatasetMap::Options options() const;
    void mapFinished(const torch::Tensor &coords);
    void mapStopped(const QString &message);
    /// Draws the cumulative explained variance of the PCA (all components) and marks the kept size.
    void showVariance(const torch::Tensor &cumulative, std::int64_t kept);

    Workspace *workspace_;
    JobLane *jobs_;       ///< the map being made: a new one supersedes it
    JobLane *exportJobs_; ///< the file being written
    QComboBox *layer_, *colour_, *method_;
    QSpinBox *perplexity_, *iterations_, *neighbours_, *epochs_, *pca_;
    QDoubleSpinBox *minDist_;
    QChartView *variance_;
    QPushButton *run_, *stop_;
    QLabel *status_;
    MapView *view_;
    TileGridView *selectionGrid_;
    std::shared_ptr<Points> points_;
    torch::Tensor coords_, features_; ///< the map, and the (PCA-reduced) features it was made from
    torch::Tensor clusters_;          ///< k-means cluster of each point in the finished map
    QString methodTitle_;             ///< "t-SNE" or "UMAP" of the current map
    int frames_ = 0;
};

} // namespace convscope
