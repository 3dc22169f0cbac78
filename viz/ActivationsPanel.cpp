#include "ActivationsPanel.h"

#include "Error.h"
#include "NpyFile.h"
#include "OverlayRenderer.h"
#include "TileGridView.h"

#include <QComboBox>
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
      opacity_(new QSlider(Qt::Horizontal)), grid_(new TileGridView)
{
    input_->setFixedSize(160, 160);
    input_->setAlignment(Qt::AlignCenter);
    input_->setFrameShape(QFrame::StyledPanel);
    inputCaption_->setWordWrap(true);
    overlay_->setFixedSize(160, 160);
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
    side->addWidget(heading(tr("Channel over the input")));
    side->addWidget(overlay_);
    side->addWidget(opacity_);
    side->addStretch();
    auto *sideWidget = new QWidget;
    sideWidget->setLayout(side);
    auto *sideScroll = new QScrollArea; // never forces the window taller than the screen
    sideScroll->setWidget(sideWidget);
    sideScroll->setWidgetResizable(true);
    sideScroll->setFrameShape(QFrame::NoFrame);
    sideScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    sideScroll->setFixedWidth(230);

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
    if (tile >= 0) // a tile index; -2 = redraw the current channel
        channel_ = std::stoi(grid_->tiles().captions.at(static_cast<size_t>(tile)));
    if (channel_ < 0)
        return;
    torch::Tensor a = in->activations.at(layer);
    a = a.dim() == 4 ? a[0][channel_] : torch::Tensor();
    overlay_->setPixmap(QPixmap::fromImage(OverlayRenderer::render(in->seen, a, opacity_->value() / 100.0f,
                                                                   overlay_->width() - 4)));
    overlay_->setToolTip(tr("channel %1").arg(channel_));
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
