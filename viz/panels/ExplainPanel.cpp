#include "panels/ExplainPanel.h"

#include "common/Error.h"
#include "model/Model.h"
#include "common/NpyFile.h"
#include "explain/ReconstructionDisplay.h"
#include "explain/Reconstructor.h"
#include "explain/SanityCheck.h"
#include "widgets/TileGridView.h"
#include "jobs/Workspace.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

namespace convscope {

ExplainPanel::ExplainPanel(Workspace *workspace, QWidget *parent)
    : QWidget(parent), workspace_(workspace), mapsJobs_(new JobLane(this)), sanityJobs_(new JobLane(this)), method_(new QComboBox),
      layer_(new QComboBox), display_(new QComboBox), opacity_(new QSlider(Qt::Horizontal)),
      sanityButton_(new QPushButton(tr("Sanity check"))), progress_(new QProgressBar), stop_(new QToolButton),
      notes_(new QLabel), sanityNotes_(new QLabel), maps_(new TileGridView), sanity_(new TileGridView)
{
    mapsJobs_->setWaitOnDestroy(false); // one backward pass that cannot stop midway; its work captures values only
    method_->addItems({tr("Grad-CAM"), tr("Guided Grad-CAM"), tr("Guided backprop"), tr("Gradient"), tr("Deconvnet")});
    method_->setToolTip(tr("How each class score is explained: Grad-CAM weighs a layer's maps by the class "
                           "gradient; the others project the score back to the pixels"));
    layer_->setToolTip(tr("The layer Grad-CAM uses (default: the last convolutional map)"));
    layer_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    display_->addItems({tr("Auto"), tr("Grey-centred (RGB)"), tr("Signed (blue–red)"), tr("Magnitude")});
    display_->setToolTip(tr("How signed maps are drawn; Grad-CAM is always a heat overlay"));
    opacity_->setRange(0, 100);
    opacity_->setValue(60);
    opacity_->setMaximumWidth(120);
    opacity_->setToolTip(tr("Overlay opacity"));
    sanityButton_->setToolTip(tr("Re-initialise the model's layers from the top, one more per step, and see how "
                                 "much each method's map changes (Adebayo et al. 2018)"));
    stop_->setText(tr("Stop"));
    progress_->setMaximumWidth(200);
    progress_->hide();
    stop_->hide();
    notes_->setWordWrap(true);
    sanityNotes_->setWordWrap(true);

    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Method")));
    bar->addWidget(method_);
    bar->addWidget(new QLabel(tr("Layer")));
    bar->addWidget(layer_);
    bar->addWidget(new QLabel(tr("Display")));
    bar->addWidget(display_);
    bar->addWidget(new QLabel(tr("Opacity")));
    bar->addWidget(opacity_);
    bar->addStretch(1);
    bar->addWidget(sanityButton_);
    bar->addWidget(progress_);
    bar->addWidget(stop_);
    auto *top = new QWidget;
    auto *tl = new QVBoxLayout(top);
    tl->setContentsMargins(0, 0, 0, 0);
    tl->addWidget(new QLabel(tr("<b>Top-5 classes</b> of the current input, each explained")));
    tl->addWidget(maps_, 1);
    tl->addWidget(notes_);
    auto *bottom = new QWidget;
    auto *bl = new QVBoxLayout(bottom);
    bl->setContentsMargins(0, 0, 0, 0);
    bl->addWidget(sanityNotes_);
    bl->addWidget(sanity_, 1);
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(bottom);
    split->setSizes({500, 300});
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(split, 1);
    // The figure's columns (original, then each re-initialised layer) fill the width, rows scroll: tiles of up to
    // 112 px with their method and correlation readable, instead of the whole figure squeezed into the height.
    sanity_->setFitWidth(112);
    sanity_->setKeepColumns(true);
    sanity_->clear(tr("The sanity check shows here."));
    sanityNotes_->setText(tr("<b>Sanity check</b>: which maps depend on what the model learned?"));

    connect(workspace_, &Workspace::modelChanged, this, &ExplainPanel::modelChanged);
    connect(workspace_, &Workspace::inputChanged, this, &ExplainPanel::refresh);
    for (QComboBox *box : {method_, layer_, display_})
        connect(box, qOverload<int>(&QComboBox::currentIndexChanged), this, &ExplainPanel::refresh);
    connect(opacity_, &QSlider::valueChanged, this, &ExplainPanel::refresh);
    connect(sanityButton_, &QPushButton::clicked, this, &ExplainPanel::runSanityCheck);
    connect(stop_, &QToolButton::clicked, this, &ExplainPanel::stopSanity);
    modelChanged();
}

ExplainPanel::~ExplainPanel() = default; // the lanes stop their jobs and wait for them

void ExplainPanel::modelChanged()
{
    stopSanity();
    auto model = workspace_->model();
    reconstructor_ = model ? std::make_shared<Reconstructor>(model) : nullptr;
    const QSignalBlocker block(layer_);
    layer_->clear();
    if (model) {
        const int preferred = reconstructor_->defaultCamLayer();
        for (const LayerInfo &l : model->layers())
            if (l.capturable && l.outputShape.size() == 4 && l.outputShape[2] * l.outputShape[3] > 1 &&
                l.kind != LayerKind::Block) {
                layer_->addItem(QString::fromStdString(l.path), l.index);
                if (l.index == preferred)
                    layer_->setCurrentIndex(layer_->count() - 1);
            }
    }
    sanity_->clear(tr("The sanity check shows here."));
    refresh();
}

void ExplainPanel::refresh()
{
    const InputResult *in = workspace_->input();
    auto model = workspace_->model();
    if (!model || !in || !in->tensor.defined()) {
        maps_->clear(tr("Explanations appear once there is an input."));
        notes_->clear();
        return;
    }
    if (in->predictions.empty()) {
        maps_->clear(tr("This model has no class scores to explain."));
        return;
    }
    auto rec = reconstructor_;
    const torch::Tensor input = in->tensor, rgb = in->rgb;
    std::vector<int> classes;
    QStringList captions;
    for (const Prediction &p : in->predictions) {
        classes.push_back(p.classIndex);
        captions << QString::fromStdString(p.label) + QString(" · %1%").arg(100.0 * p.probability, 0, 'f', 1);
    }
    const auto method = static_cast<Method>(method_->currentIndex());
    const int camLayer = layer_->currentData().isValid() ? layer_->currentData().toInt() : -1;
    const auto style = static_cast<ReconstructionDisplay::Style>(display_->currentIndex());
    const float opacity = static_cast<float>(opacity_->value()) / 100.0f;
    QString name = in->name; // short: "#42" or the file name
    if (const int hash = name.lastIndexOf('#'); hash >= 0)
        name = name.mid(hash);
    else
        name = QFileInfo(name).fileName();
    struct Result {
        TileSet tiles;
        torch::Tensor raw;
        QString notes;
    };
    maps_->setEnabled(false);
    mapsJobs_->run<Result>(
        [=]() {
            const torch::Tensor batch = input.expand({static_cast<std::int64_t>(classes.size()), -1, -1, -1});
            Result r;
            std::vector<std::string> uncovered;
            if ((method == GradCam || method == GuidedGradCam) && camLayer < 0)
                throw UnsupportedModelError("the model has no layer with spatial maps for Grad-CAM");
            switch (method) {
            case GradCam: r.raw = rec->gradCam(batch, classes, camLayer).upsampled; break;
            case GuidedGradCam: r.raw = rec->guidedGradCam(batch, classes, camLayer); break;
            case Guided: r.raw = rec->classSaliency(batch, classes, BackpropRule::Guided); break;
            case Gradient: r.raw = rec->classSaliency(batch, classes, BackpropRule::Gradient); break;
            case Deconvnet: r.raw = rec->classSaliency(batch, classes, BackpropRule::Deconvnet); break;
            }
            if (method == Guided || method == GuidedGradCam)
                uncovered = rec->uncovered(BackpropRule::Guided);
            if (method == Deconvnet)
                uncovered = rec->uncovered(BackpropRule::Deconvnet);
            std::vector<torch::Tensor> tiles{rgb};
            r.tiles.captions.push_back(name.toStdString());
            for (std::int64_t i = 0; i < r.raw.size(0); ++i) {
                tiles.push_back(method == GradCam ? ReconstructionDisplay::overlay(rgb, r.raw[i], opacity)
                                                  : ReconstructionDisplay::render(r.raw[i], style));
                r.tiles.captions.push_back(captions[static_cast<int>(i)].toStdString());
            }
            r.tiles.kind = TileValues::Color;
            r.tiles.values = torch::stack(tiles);
            r.tiles.columns = static_cast<int>(tiles.size());
            if (!uncovered.empty()) {
                QStringList list;
                for (const auto &u : uncovered)
                    list << QString::fromStdString(u);
                r.notes = tr("Note: the rule changes only ReLU, ReLU6/Hardtanh and LeakyReLU; these keep their "
                             "ordinary gradient: %1.").arg(list.join(", "));
            }
            return r;
        },
        [this](Result &r) {
            maps_->setEnabled(true);
            raw_ = r.raw;
            maps_->setTiles(std::move(r.tiles));
            notes_->setText(r.notes);
            Q_EMIT updated();
        },
        [this](const QString &message) {
            maps_->setEnabled(true);
            maps_->clear(message);
            Q_EMIT updated();
        });
}

void ExplainPanel::runSanityCheck()
{
    const InputResult *in = workspace_->input();
    auto model = workspace_->model();
    if (!model || !in || !in->tensor.defined() || in->predictions.empty())
        return;
    stopSanity();
    const torch::Tensor input = in->tensor[0];
    SanityCheck::Options o;
    o.camLayer = layer_->currentData().isValid() ? layer_->currentData().toInt() : -1;
    if (o.camLayer < 0)
        o.methods = {SanityCheck::Method::Gradient, SanityCheck::Method::Guided};
    progress_->setRange(0, 0);
    progress_->setFormat(tr("step %v of %m"));
    progress_->show();
    stop_->show();
    sanityButton_->setEnabled(false);
    sanityNotes_->setText(tr("Re-initialising the model's layers from the top…"));
    auto finish = [this] {
        progress_->hide();
        stop_->hide();
        sanityButton_->setEnabled(true);
        Q_EMIT updated();
    };
    JobHandlers<SanityCheck> on;
    on.progress = [this](std::int64_t done, std::int64_t total) {
        progress_->setRange(0, static_cast<int>(total));
        progress_->setValue(static_cast<int>(done));
    };
    on.done = [this, finish](SanityCheck &check) {
        finish();
        sanity_->setTiles(check.figure());
        QStringList last;
        for (size_t k = 0; k < check.options().methods.size(); ++k)
            last << QString("%1 %2").arg(SanityCheck::methodName(check.options().methods[k]))
                        .arg(check.results().back().correlation[k], 0, 'f', 2);
        sanityNotes_->setText(tr("<b>Sanity check</b>, class %1: rank correlation with the original map after "
                                 "re-initialising all %2 layers: %3. Maps that stay similar show the image "
                                 "more than what the model learned.")
                                  .arg(QString::fromStdString(check.model().label(check.classIndex())))
                                  .arg(check.steps() - 1)
                                  .arg(last.join(" · ")));
    };
    on.cancelled = [this, finish] {
        finish();
        sanityNotes_->setText(tr("Sanity check stopped."));
    };
    on.failed = [this, finish](const JobError &e) {
        finish();
        sanityNotes_->setText(e.message);
    };
    sanityJobs_->start<SanityCheck>(
        [model, input, o](Progress &progress) {
            SanityCheck check(model, input, o);
            while (!check.done()) {
                if (progress.cancelled())
                    throw CancelledError();
                check.run(1);
                progress.report(static_cast<std::int64_t>(check.results().size()), check.steps(), "steps");
            }
            return check;
        },
        on);
}

void ExplainPanel::stopSanity()
{
    sanityJobs_->cancel();
}

void ExplainPanel::exportTo(const QString &path, int width) const
{
    if (!raw_.defined() || !maps_->tiles().count())
        throw UsageError("there is no explanation to export yet");
    if (QFileInfo(path).suffix().toLower() == "npy") {
        NpyFile::write(path.toStdString(), raw_);
        return;
    }
    TileGridRenderer::Options o;
    o.width = width;
    TileSet tiles = maps_->tiles();
    tiles.title = method_->currentText().toStdString() + " — " +
                  (workspace_->input() ? workspace_->input()->name.toStdString() : std::string());
    TileGridRenderer(o).write(tiles, path);
}

} // namespace convscope
