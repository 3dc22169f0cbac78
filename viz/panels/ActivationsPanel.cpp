#include "panels/ActivationsPanel.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "render/OverlayRenderer.h"
#include "scan/PatchExtractor.h"
#include "explain/ReconstructionDisplay.h"
#include "explain/Reconstructor.h"
#include "widgets/TileGridView.h"

#include <QCheckBox>
#include <QComboBox>
#include <QMouseEvent>
#include <QStyle>
#include <QFileInfo>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

namespace convscope {

namespace {
QLabel *heading(const QString &text)
{
    auto *l = new QLabel("<b>" + text + "</b>");
    return l;
}
} // namespace

ActivationsPanel::ActivationsPanel(Workspace *workspace, QWidget *parent)
    : QWidget(parent), workspace_(workspace), input_(new QLabel), inputCaption_(new QLabel), overlay_(new QLabel),
      mapsInfo_(new QLabel), predictions_(new QTableWidget(0, 2)), order_(new QComboBox), scaling_(new QComboBox),
      opacity_(new QSlider(Qt::Horizontal)), grid_(new TileGridView), reconMethod_(new QComboBox),
      crop_(new QCheckBox(tr("Crop to receptive field"))), recon_(new QLabel), reconCaption_(new QLabel),
      reconJobs_(new JobLane(this))
{
    reconJobs_->setWaitOnDestroy(false); // one backward pass that cannot stop midway; its work captures values only
    reconMethod_->addItems({tr("Deconvnet"), tr("Guided backprop"), tr("Gradient")});
    reconMethod_->setToolTip(tr("How the channel's unit is projected back to the input"));
    recon_->setFixedSize(150, 150);
    recon_->setAlignment(Qt::AlignCenter);
    recon_->setFrameShape(QFrame::StyledPanel);
    reconCaption_->setWordWrap(true);
    overlay_->installEventFilter(this);
    overlay_->setCursor(Qt::CrossCursor);
    overlay_->setToolTip(tr("Click a position to project the unit there"));
    crop_->setToolTip(tr("Show only the unit's receptive field"));
    input_->setFixedSize(128, 128);
    input_->setAlignment(Qt::AlignCenter);
    input_->setFrameShape(QFrame::StyledPanel);
    inputCaption_->setWordWrap(true);
    overlay_->setFixedSize(150, 150);
    overlay_->setAlignment(Qt::AlignCenter);
    overlay_->setFrameShape(QFrame::StyledPanel);
    predictions_->setHorizontalHeaderLabels({tr("Class"), tr("Probability")});
    predictions_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    predictions_->verticalHeader()->hide();
    predictions_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    predictions_->setSelectionMode(QAbstractItemView::NoSelection);
    predictions_->verticalHeader()->setDefaultSectionSize(20);
    predictions_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    predictions_->setFixedHeight(20 * 5 + predictions_->horizontalHeader()->sizeHint().height() + 4);
    predictions_->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    order_->addItem(tr("By channel"));
    order_->addItem(tr("By strength"));
    scaling_->addItem(tr("Normalise per map"));
    scaling_->addItem(tr("Normalise per layer"));
    opacity_->setRange(0, 100);
    opacity_->setValue(60);
    opacity_->setToolTip(tr("Overlay opacity"));
    auto *open = new QPushButton(tr("Open image…"));

    auto *side = new QVBoxLayout;
    side->addWidget(heading(tr("Input (as the model sees it)")));
    side->addWidget(input_);
    side->addWidget(inputCaption_);
    side->addWidget(open);
    side->addWidget(heading(tr("Top-5 predictions")));
    side->addWidget(predictions_);
    // The clicked channel: its map over the input beside its unit projected back to the input.
    auto *pair = new QGridLayout;
    pair->addWidget(heading(tr("Channel over the input")), 0, 0);
    pair->addWidget(heading(tr("Projected to the input")), 0, 1);
    pair->addWidget(overlay_, 1, 0);
    pair->addWidget(recon_, 1, 1);
    pair->addWidget(opacity_, 2, 0);
    pair->addWidget(reconMethod_, 2, 1);
    pair->addWidget(crop_, 3, 1);
    side->addLayout(pair);
    side->addWidget(reconCaption_);
    side->addStretch();
    auto *sideWidget = new QWidget;
    sideWidget->setLayout(side);
    auto *sideScroll = new QScrollArea; // never forces the window taller than the screen
    sideScroll->setWidget(sideWidget);
    sideScroll->setWidgetResizable(true);
    sideScroll->setFrameShape(QFrame::NoFrame);
    sideScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // Its content's 340 px beside the vertical scroll bar, which would otherwise cover the right edge.
    sideScroll->setFixedWidth(340 + style()->pixelMetric(QStyle::PM_ScrollBarExtent));

    auto *bar = new QHBoxLayout;
    bar->addWidget(order_);
    bar->addWidget(scaling_);
    bar->addStretch();
    bar->addWidget(mapsInfo_);
    auto *maps = new QVBoxLayout;
    maps->addLayout(bar);
    maps->addWidget(grid_);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(sideScroll);
    layout->addLayout(maps, 1);

    connect(open, &QPushButton::clicked, this, &ActivationsPanel::openImageRequested);
    connect(workspace_, &Workspace::inputChanged, this, &ActivationsPanel::refreshInput);
    connect(workspace_, &Workspace::layerChanged, this, &ActivationsPanel::refreshMaps);
    connect(workspace_, &Workspace::modelChanged, this, &ActivationsPanel::refreshInput);
    connect(order_, &QComboBox::currentIndexChanged, this, &ActivationsPanel::refreshMaps);
    connect(scaling_, &QComboBox::currentIndexChanged, this, &ActivationsPanel::refreshMaps);
    connect(grid_, &TileGridView::tileClicked, this, &ActivationsPanel::showChannel);
    connect(opacity_, &QSlider::valueChanged, this, [this] { showChannel(-2); });
    connect(reconMethod_, qOverload<int>(&QComboBox::currentIndexChanged), this, &ActivationsPanel::refreshProjection);
    connect(crop_, &QCheckBox::toggled, this, &ActivationsPanel::refreshProjection);
    refreshInput();
}

void ActivationsPanel::refreshInput()
{
    const InputResult *in = workspace_->input();
    predictions_->setRowCount(0);
    if (!in) {
        input_->setText(tr("No input yet.\nPick an image in the\ndataset browser, drop\none here or paste it."));
        inputCaption_->clear();
        refreshMaps();
        return;
    }
    input_->setPixmap(QPixmap::fromImage(in->seen.scaled(input_->size() - QSize(4, 4), Qt::KeepAspectRatio,
                                                         in->seen.width() < 96 ? Qt::FastTransformation
                                                                               : Qt::SmoothTransformation)));
    auto model = workspace_->model();
    QString caption = in->name;
    if (in->label >= 0 && model)
        caption += "\n" + tr("label: %1").arg(QString::fromStdString(model->label(in->label)));
    inputCaption_->setText(caption);
    predictions_->setRowCount(static_cast<int>(in->predictions.size()));
    for (int i = 0; i < static_cast<int>(in->predictions.size()); ++i) {
        const Prediction &p = in->predictions[i];
        auto *name = new QTableWidgetItem(QString::fromStdString(p.label));
        if (p.classIndex == in->label)
            name->setForeground(QColor(0x35, 0xb7, 0x79));
        predictions_->setItem(i, 0, name);
        auto *prob = new QTableWidgetItem(QString::number(100.0 * p.probability, 'f', 2) + " %");
        prob->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        predictions_->setItem(i, 1, prob);
    }
    refreshMaps();
}

void ActivationsPanel::refreshMaps()
{
    const InputResult *in = workspace_->input();
    auto model = workspace_->model();
    const int layer = workspace_->layer();
    if (!in || !model || layer < 0) {
        grid_->clear(in ? tr("Pick a layer.") : tr("Activation maps appear once there is an input."));
        mapsInfo_->clear();
        overlay_->clear();
        return;
    }
    const LayerInfo &info = model->layers()[layer];
    const torch::Tensor &a = in->activations.at(layer);
    if (!a.defined()) {
        grid_->clear(tr("The output of %1 is not available: %2")
                         .arg(QString::fromStdString(info.path), QString::fromStdString(info.whyNot)));
        return;
    }
    try {
        ActivationMaps::Options o;
        o.order = order_->currentIndex() == 0 ? ActivationMaps::Order::Channel : ActivationMaps::Order::Strength;
        o.scaling = scaling_->currentIndex() == 0 ? TileScaling::PerTile : TileScaling::PerSet;
        TileSet tiles = ActivationMaps::tiles(a, o);
        mapsInfo_->setText(tr("%1 (%2): %3 channels").arg(QString::fromStdString(info.path),
                                                          QString::fromStdString(info.type)).arg(tiles.count()));
        grid_->setTiles(std::move(tiles));
        channel_ = -1;
        showChannel(0);
    } catch (const Error &e) {
        grid_->clear(QString::fromStdString(e.what()));
    }
}

void ActivationsPanel::showChannel(int tile)
{
    const InputResult *in = workspace_->input();
    const int layer = workspace_->layer();
    if (!in || layer < 0 || !grid_->tiles().count())
        return;
    if (tile >= 0) { // a tile index; -2 = redraw the current channel
        channel_ = std::stoi(grid_->tiles().captions.at(static_cast<size_t>(tile)));
        atY_ = atX_ = -1;
    }
    if (channel_ < 0)
        return;
    if (tile != -2)
        refreshProjection();
    torch::Tensor a = in->activations.at(layer);
    a = a.dim() == 4 ? a[0][channel_] : torch::Tensor();
    overlay_->setPixmap(QPixmap::fromImage(OverlayRenderer::render(in->seen, a, opacity_->value() / 100.0f,
                                                                   overlay_->width() - 4)));
    overlay_->setToolTip(tr("Channel %1 — click a position to project the unit there").arg(channel_));
}

bool ActivationsPanel::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == overlay_ && event->type() == QEvent::MouseButtonPress) {
        // The click's position in the enlarged map -> the unit at that position of the layer's map.
        const InputResult *in = workspace_->input();
        const int layer = workspace_->layer();
        const QPixmap pm = overlay_->pixmap();
        if (in && layer >= 0 && channel_ >= 0 && !pm.isNull() && in->activations.at(layer).dim() == 4) {
            const QPoint p = static_cast<QMouseEvent *>(event)->position().toPoint();
            const QRect shown = QStyle::alignedRect(Qt::LeftToRight, Qt::AlignCenter, pm.size(), overlay_->rect());
            if (shown.contains(p)) {
                const auto &a = in->activations.at(layer);
                const int y = static_cast<int>((p.y() - shown.top()) * a.size(2) / std::max(1, shown.height()));
                const int x = static_cast<int>((p.x() - shown.left()) * a.size(3) / std::max(1, shown.width()));
                projectAt(std::clamp<int>(y, 0, static_cast<int>(a.size(2)) - 1),
                          std::clamp<int>(x, 0, static_cast<int>(a.size(3)) - 1));
            }
        }
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

void ActivationsPanel::projectAt(int y, int x)
{
    atY_ = y;
    atX_ = x;
    refreshProjection();
}

void ActivationsPanel::refreshProjection()
{
    const InputResult *in = workspace_->input();
    auto model = workspace_->model();
    const int layer = workspace_->layer();
    if (model && (!reconstructor_ || &reconstructor_->model() != model.get()))
        reconstructor_ = std::make_shared<Reconstructor>(model); // graphs are built once per model
    if (!in || !model || layer < 0 || channel_ < 0 || !in->tensor.defined() ||
        !in->activations.at(layer).defined()) {
        recon_->clear();
        reconCaption_->clear();
        return;
    }
    const int dims = static_cast<int>(in->activations.at(layer).dim());
    if (dims != 4 && dims != 2) {
        recon_->clear();
        reconCaption_->setText(tr("This layer's output has no units to project."));
        return;
    }
    auto rec = reconstructor_;
    const torch::Tensor input = in->tensor, rgb = in->rgb;
    const UnitTarget target{channel_, atY_, atX_};
    const BackpropRule rule = reconMethod_->currentIndex() == 0   ? BackpropRule::Deconvnet
                              : reconMethod_->currentIndex() == 1 ? BackpropRule::Guided
                                                                  : BackpropRule::Gradient;
    const bool crop = crop_->isChecked() && dims == 4;
    const ReceptiveField field = model->layers()[static_cast<size_t>(layer)].field;
    const QString path = QString::fromStdString(model->layers()[static_cast<size_t>(layer)].path);
    struct Result {
        QImage image;
        QString caption;
    };
    reconCaption_->setText(tr("Projecting…"));
    reconJobs_->run<Result>(
        [=]() {
            const UnitReconstruction r = rec->unit(input, layer, target, rule);
            torch::Tensor shown = ReconstructionDisplay::render(r.map, ReconstructionDisplay::Style::Auto);
            if (crop)
                shown = PatchExtractor::cropOf(shown, field.at(r.y, r.x));
            TileSet one;
            one.kind = TileValues::Color;
            one.values = shown.unsqueeze(0);
            Result out;
            out.image = TileGridRenderer::tileImage(one, 0);
            out.caption = tr("%1 unit %2 at %3,%4 = %5 (%6)")
                              .arg(path)
                              .arg(target.channel)
                              .arg(r.y)
                              .arg(r.x)
                              .arg(static_cast<double>(r.value), 0, 'g', 3)
                              .arg(backpropRuleName(rule));
            const auto uncovered = rec->uncovered(rule, layer);
            if (!uncovered.empty())
                out.caption += tr("; ordinary gradient through %1").arg(QString::fromStdString(uncovered.front()));
            return out;
        },
        [this](Result &r) {
            const QSize room = recon_->size() - QSize(4, 4);
            recon_->setPixmap(QPixmap::fromImage(r.image.scaled(
                room, Qt::KeepAspectRatio, r.image.width() < 96 ? Qt::FastTransformation : Qt::SmoothTransformation)));
            reconCaption_->setText(r.caption);
            Q_EMIT projected();
        },
        [this](const QString &message) {
            recon_->clear();
            reconCaption_->setText(message);
            Q_EMIT projected();
        });
}

void ActivationsPanel::exportTo(const QString &path, int width) const
{
    const InputResult *in = workspace_->input();
    const int layer = workspace_->layer();
    if (!in || layer < 0 || !in->activations.at(layer).defined())
        throw UsageError("there is no activation to export yet");
    if (QFileInfo(path).suffix().toLower() == "npy") {
        NpyFile::write(path.toStdString(), in->activations.at(layer));
        return;
    }
    TileGridRenderer::Options o;
    o.width = width;
    TileSet tiles = grid_->tiles();
    tiles.title = mapsInfo_->text().toStdString() + " on " + in->name.toStdString();
    TileGridRenderer(o).write(tiles, path);
}

} // namespace convscope
