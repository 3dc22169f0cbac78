#include "widgets/SynthesisStrip.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "explain/UnitSynthesizer.h"
#include "jobs/JobLane.h"
#include "model/Model.h"
#include "widgets/TileGridView.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace convscope {

/// Images of one run: the images, the tile set to show, and how many excite their unit above its best dataset image.
struct Synthesised {
    TileSet tiles;
    torch::Tensor images; ///< N×C×H×W in [0, 1], the model's channels
    int above = 0;
    int compared = 0;
};

namespace {


Synthesised tilesOf(const UnitSynthesizer::Result &r, const std::vector<UnitSynthesizer::Target> &targets,
                    const std::vector<float> &best)
{
    Synthesised s;
    s.images = r.images.clone(); // result() is the synthesiser's own, which goes on changing
    s.tiles.kind = TileValues::Color;
    s.tiles.values = s.images.size(1) == 1 ? s.images.repeat({1, 3, 1, 1}) : s.images;
    for (size_t i = 0; i < r.objective.size() && i < targets.size(); ++i) {
        const int c = targets[i].channel;
        QString caption = QStringLiteral("%1 · %2").arg(c).arg(static_cast<double>(r.objective[i]), 0, 'g', 3);
        if (c < static_cast<int>(best.size()) && best[static_cast<size_t>(c)] > 0) {
            const double ratio = r.objective[i] / best[static_cast<size_t>(c)];
            caption += QStringLiteral(" · %1×").arg(ratio, 0, 'f', 1);
            s.above += ratio > 1.0;
            ++s.compared;
        }
        s.tiles.captions.push_back(caption.toStdString());
    }
    return s;
}

} // namespace

SynthesisStrip::SynthesisStrip(QWidget *parent)
    : QWidget(parent), unitButton_(new QPushButton(tr("Synthesise"))), layerButton_(new QPushButton(tr("Whole layer"))),
      steps_(new QSpinBox), progress_(new QProgressBar), stop_(new QToolButton), export_(new QToolButton),
      summary_(new QLabel),
      view_(new TileGridView), jobs_(new JobLane(this))
{
    unitButton_->setToolTip(tr("Optimise an image to excite this unit (Fourier-parametrised gradient ascent with "
                               "random jitter, scale and rotation), beside its top patches"));
    layerButton_->setToolTip(tr("One synthesised image for every unit of the layer"));
    steps_->setRange(16, 4096);
    steps_->setSingleStep(64);
    steps_->setValue(UnitSynthesizer::Options{}.steps);
    steps_->setSuffix(tr(" steps"));
    steps_->setToolTip(tr("Optimisation steps: more give stronger, more detailed images"));
    stop_->setText(tr("Stop"));
    stop_->setToolTip(tr("Stop; the images of the finished steps stay"));
    export_->setText(tr("Export…"));
    export_->setToolTip(tr("Save the images as a sheet (PNG or SVG, with captions) or as an N×C×H×W .npy array"));
    progress_->setMaximumWidth(160);
    summary_->setWordWrap(true);
    view_->setFitWidth(96);
    view_->clear(tr("Images optimised to excite the unit appear here"));

    auto *row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(unitButton_);
    row->addWidget(layerButton_);
    row->addWidget(steps_);
    row->addWidget(progress_);
    row->addWidget(stop_);
    row->addStretch(1);
    row->addWidget(export_);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("<b>Synthesised</b> images that excite the unit most")));
    layout->addLayout(row);
    layout->addWidget(summary_);
    layout->addWidget(view_, 1);

    connect(unitButton_, &QPushButton::clicked, this, [this] { synthesise(false); });
    connect(layerButton_, &QPushButton::clicked, this, [this] { synthesise(true); });
    connect(stop_, &QToolButton::clicked, this, &SynthesisStrip::stop);
    connect(export_, &QToolButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export synthesised images"), QStringLiteral("synthesised-unit%1.png").arg(unit_),
            tr("Sheet, PNG (*.png);;Sheet, SVG (*.svg);;NumPy array (*.npy)"));
        if (path.isEmpty())
            return;
        try {
            exportTo(path);
            summary_->setText(tr("Wrote %1").arg(path));
        } catch (const std::exception &e) {
            summary_->setText(tr("Could not export: %1").arg(QString::fromUtf8(e.what())));
        }
    });
    clearUnit();
}

SynthesisStrip::~SynthesisStrip() = default;

void SynthesisStrip::setRunning(bool running)
{
    progress_->setVisible(running);
    stop_->setVisible(running);
    unitButton_->setEnabled(!running && model_ && unit_ >= 0);
    layerButton_->setEnabled(!running && model_ && layer_ >= 0);
    export_->setEnabled(!running && images_.defined());
}

void SynthesisStrip::exportTo(const QString &path) const
{
    if (!images_.defined())
        throw UsageError("no synthesised images to export yet");
    if (QFileInfo(path).suffix().compare("npy", Qt::CaseInsensitive) == 0)
        NpyFile::write(path.toStdString(), images_);
    else
        TileGridRenderer(TileGridRenderer::Options{}).write(view_->tiles(), path);
}

void SynthesisStrip::showImages(const Synthesised &s)
{
    images_ = s.images;
    view_->setTiles(s.tiles);
}

void SynthesisStrip::clearUnit()
{
    jobs_->drop();
    model_.reset();
    layer_ = -1;
    unit_ = -1;
    best_.clear();
    images_ = torch::Tensor();
    summary_->clear();
    view_->clear(tr("Images optimised to excite the unit appear here"));
    setRunning(false);
}

void SynthesisStrip::setUnit(std::shared_ptr<const Model> model, int layer, std::int64_t unit, std::vector<float> best)
{
    if (model == model_ && layer == layer_ && unit == unit_)
        return;
    clearUnit();
    model_ = std::move(model);
    layer_ = layer;
    unit_ = unit;
    best_ = std::move(best);
    summary_->setText(tr("Click <i>Synthesise</i> for an image that excites unit %1 as much as possible.").arg(unit));
    setRunning(false);
}

bool SynthesisStrip::busy() const { return jobs_->pending() > 0; }

void SynthesisStrip::waitForIdle() { jobs_->waitForIdle(); }

void SynthesisStrip::stop() { jobs_->cancel(); }

void SynthesisStrip::synthesise(bool wholeLayer)
{
    if (!model_ || layer_ < 0 || unit_ < 0)
        return;
    std::vector<UnitSynthesizer::Target> targets;
    try {
        targets = wholeLayer ? UnitSynthesizer::layerTargets(*model_, layer_)
                             : std::vector<UnitSynthesizer::Target>{{layer_, static_cast<int>(unit_), -1, -1}};
    } catch (const std::exception &e) {
        summary_->setText(QString::fromUtf8(e.what()));
        return;
    }
    UnitSynthesizer::Options o;
    o.steps = steps_->value();
    auto model = model_;
    auto best = best_;
    const QString what = wholeLayer ? tr("every unit of the layer") : tr("unit %1").arg(unit_);
    progress_->setRange(0, o.steps);
    progress_->setValue(0);
    progress_->setFormat(tr("%v of %m steps"));
    summary_->setText(tr("Synthesising %1…").arg(what));
    setRunning(true);

    JobHandlers<Synthesised> on;
    on.progress = [this](std::int64_t done, std::int64_t total) { // steps of all batches (a wide layer has several)
        progress_->setMaximum(static_cast<int>(total));
        progress_->setValue(static_cast<int>(done));
    };
    on.done = [this, what, steps = o.steps](Synthesised &s) {
        showImages(s);
        setRunning(false);
        QString text = tr("%1, %2 steps").arg(what).arg(steps);
        if (s.compared > 0)
            text += tr(": <b>%1 of %2</b> excite their unit more than any dataset image").arg(s.above).arg(s.compared);
        summary_->setText(text);
        summary_->setToolTip(s.compared > 0 ? tr("Caption: unit · response · response ÷ the unit's best dataset "
                                                 "response")
                                            : tr("Caption: unit · response"));
        Q_EMIT finished();
    };
    on.cancelled = [this] {
        setRunning(false);
        summary_->setText(images_.defined() ? tr("Stopped; the images show the last finished step.")
                                            : tr("Stopped before the first step finished."));
        Q_EMIT finished();
    };
    on.failed = [this](const JobError &e) {
        setRunning(false);
        summary_->setText(tr("Could not synthesise: %1").arg(e.message));
        Q_EMIT finished();
    };
    jobs_->start<Synthesised>(
        [model, targets, o, best, this](JobContext &job) {
            UnitSynthesizer synth(model, targets, o);
            try {
                while (!synth.run(16, &job)) {
                    // Intermediate images: the user sees them form. Made here, shown on the GUI thread.
                    auto partial = std::make_shared<Synthesised>(tilesOf(synth.result(), targets, best));
                    job.post([this, partial] { showImages(*partial); });
                }
            } catch (const CancelledError &) {
                if (synth.result().loss.empty())
                    throw;
                auto partial = std::make_shared<Synthesised>(tilesOf(synth.result(), targets, best));
                job.post([this, partial] { showImages(*partial); });
                throw;
            }
            return tilesOf(synth.result(), targets, best);
        },
        on);
}

} // namespace convscope
