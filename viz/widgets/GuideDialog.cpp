#include "widgets/GuideDialog.h"

#include <QAction>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QPushButton>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace convscope {

GuideDialog::GuideDialog(const QList<QAction *> &actions, bool showAtStart, QWidget *parent)
    : QDialog(parent), pages_(new QTabWidget), atStart_(new QCheckBox(tr("Show this guide at start"))),
      scan_(new QPushButton(tr("Scan the dataset now")))
{
    setWindowTitle(tr("Getting started with Convscope"));
    text_ = tr(
        "<h3>What has your network learned?</h3>"
        "<p>Convscope opens a trained CNN (TorchScript <code>.pt</code> or ONNX) and a folder of images, and "
        "answers, tab by tab:</p>"
        "<table cellspacing='6'>"
        "<tr><td><b>Filters</b></td><td>What do the weights of each conv layer look like?</td></tr>"
        "<tr><td><b>Activations</b></td><td>What does one image do to every layer, and what does the model "
        "predict? Reconstructions show what a unit responds to (deconvnet, guided backprop).</td></tr>"
        "<tr><td><b>Units</b></td><td>Which dataset patches excite each channel most (the top 9, cropped to the "
        "unit's receptive field), and which whole images? Needs a scan of the dataset.</td></tr>"
        "<tr><td><b>Explain</b></td><td>Which pixels made the top classes (Grad-CAM, saliency), and do the "
        "explanations pass the sanity check?</td></tr>"
        "<tr><td><b>Search</b></td><td>Which images does the network find similar, and which layer describes "
        "or classifies best?</td></tr>"
        "<tr><td><b>Map</b></td><td>The whole dataset laid out by a layer's features (t-SNE / UMAP), drawn as "
        "thumbnails.</td></tr></table>"
        "<h4>Try this first</h4>"
        "<p>Open the <b>Units</b> tab and press <b>Scan dataset</b> (the demo's 10,000 images take a few seconds), "
        "then click a unit: its top patches, the images that excite it most, and what it responds to.</p>"
        "<h4>Your own model and images</h4>"
        "<p><b>File ▸ Open Model…</b> and <b>File ▸ Open Dataset Folder…</b> (a folder of images; sub-folders name the "
        "classes), or drop them on the window. Check how the model takes its input — size, resize, mean/std, "
        "class names — in <b>File ▸ Input Spec…</b>; Convscope says when it has to assume.</p>"
        "<h4>Without the window</h4>"
        "<p>Every view has a command: <code>convscope --help</code> lists them, <code>convscope COMMAND "
        "--help</code> explains one. Scans and maps made there open here, and the other way round.</p>");
    auto *guide = new QTextBrowser;
    guide->setHtml(text_);
    guide->setOpenExternalLinks(false);
    pages_->addTab(guide, tr("Getting started"));

    auto *keys = new QTableWidget(0, 2);
    keys->setHorizontalHeaderLabels({tr("Action"), tr("Shortcut")});
    keys->verticalHeader()->hide();
    keys->setEditTriggers(QAbstractItemView::NoEditTriggers);
    keys->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    keys->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    auto add = [keys](const QString &what, const QString &key) {
        const int row = keys->rowCount();
        keys->insertRow(row);
        keys->setItem(row, 0, new QTableWidgetItem(what));
        keys->setItem(row, 1, new QTableWidgetItem(key));
    };
    for (QAction *a : actions)
        if (!a->shortcut().isEmpty())
            add(a->text().remove('&'), a->shortcut().toString(QKeySequence::NativeText));
    add(tr("Zoom a grid"), tr("Ctrl+wheel over it"));
    add(tr("Open an image of a grid as the input"), tr("Click it"));
    add(tr("Run the model on a dataset image"), tr("Double-click it in the Dataset strip"));
    pages_->addTab(keys, tr("Keyboard shortcuts"));

    atStart_->setChecked(showAtStart);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    buttons->addButton(scan_, QDialogButtonBox::ActionRole);
    scan_->setToolTip(tr("Start the Units tab's scan: every unit's top 9 patches over the dataset"));
    scan_->hide();
    connect(scan_, &QPushButton::clicked, this, &GuideDialog::scanRequested);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(pages_, 1);
    auto *row = new QHBoxLayout;
    row->addWidget(atStart_);
    row->addStretch(1);
    row->addWidget(buttons);
    layout->addLayout(row);
    resize(640, 560);
}

void GuideDialog::setScanAvailable(bool available)
{
    scan_->setVisible(available);
}

void GuideDialog::showShortcuts()
{
    pages_->setCurrentIndex(1);
}

bool GuideDialog::showAtStart() const
{
    return atStart_->isChecked();
}

QString GuideDialog::text() const
{
    return text_;
}

} // namespace convscope
