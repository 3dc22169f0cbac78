#pragma once
// The Units tab's "synthesised" strip: images optimised to excite the selected unit (UnitSynthesizer), beside its
// top-9 patches — for the unit, or for every unit of the layer — computed in the background with progress, Stop
// and intermediate images every few steps. Captions give each image's response and its ratio to the unit's best
// dataset image (the scan's top-1 value). Export… saves the sheet (PNG/SVG) or the images (.npy).
#include <QWidget>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QToolButton;

namespace convscope {

class JobLane;
class Model;
struct Synthesised; ///< the images of one run, their tiles and how many beat the dataset
class TileGridView;

class SynthesisStrip : public QWidget {
    Q_OBJECT
public:
    explicit SynthesisStrip(QWidget *parent = nullptr);
    ~SynthesisStrip() override;

    /// The unit whose images the buttons make: `layer` is a LayerInfo index, `best[c]` the best dataset response of
    /// unit c of that layer (empty: unknown). Stops work for another unit and clears the view.
    void setUnit(std::shared_ptr<const Model> model, int layer, std::int64_t unit, std::vector<float> best);
    /// Nothing to synthesise (no scan shown).
    void clearUnit();

    /// Synthesises images for the unit (`wholeLayer`: one image for every unit of the layer).
    void synthesise(bool wholeLayer);
    void stop();
    bool busy() const;
    /// Blocks until work is done (tests).
    void waitForIdle();

    TileGridView *view() const { return view_; }
    QPushButton *unitButton() const { return unitButton_; }
    QPushButton *layerButton() const { return layerButton_; }
    QSpinBox *stepsBox() const { return steps_; }
    QLabel *summary() const { return summary_; }
    QToolButton *exportButton() const { return export_; }
    /// Writes the images shown: .npy as N×C×H×W float32 in [0, 1], else a captioned sheet (.png / .svg). Throws
    /// UsageError when there are none, and the writers' errors.
    void exportTo(const QString &path) const;

Q_SIGNALS:
    /// Images for the unit (or layer) are shown in full (tests).
    void finished();

private:
    void setRunning(bool running);
    void showImages(const Synthesised &s);

    std::shared_ptr<const Model> model_;
    int layer_ = -1;
    std::int64_t unit_ = -1;
    std::vector<float> best_;
    at::Tensor images_; ///< the images shown (undefined: none)
    QPushButton *unitButton_, *layerButton_;
    QSpinBox *steps_;
    QProgressBar *progress_;
    QToolButton *stop_, *export_;
    QLabel *summary_;
    TileGridView *view_;
    JobLane *jobs_;
};

} // namespace convscope
