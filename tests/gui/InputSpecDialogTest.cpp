// A model without a sidecar: the window says what it assumes and offers the input spec dialog; the dialog previews
// the current input as the model would see it, and Save writes a sidecar that the CLI and the window then read.
#include "GuiTestSupport.h"

#include "gui/MainWindow.h"
#include "jobs/Workspace.h"
#include "model/Model.h"
#include "widgets/InputSpecDialog.h"
#include "widgets/MessageBar.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QComboBox>
#include <QPushButton>

using namespace convscope;
using namespace guitest;

TEST_CASE("input spec dialog: the assumption is said, the preview follows the form, Save writes a sidecar the CLI reads", "[gui][inputspec]")
{
    QTemporaryDir dir;
    const QString model = dir.filePath("mystery.pt"); // the demo's weights, without their sidecar
    REQUIRE(QFile::copy(demo(), model));
    QSettings settings(dir.filePath("settings.ini"), QSettings::IniFormat);
    MainWindow w(&settings);
    openAndSettle(w, model, QString::fromStdString(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz"), QSize(1280, 800));
    REQUIRE(w.workspace()->model());
    // The window says that it assumes the input, and offers the dialog.
    INFO(w.messages()->text().toStdString());
    CHECK(w.messages()->text().contains("mystery.pt"));
    CHECK(w.messages()->text().contains("no sidecar"));
    CHECK(w.messages()->actionButton()->isVisible());
    CHECK(w.workspace()->model()->label(0) == "class 0");

    InputSpecDialog *dialog = w.showInputSpec();
    REQUIRE(dialog);
    dialog->waitForPreview();
    QCoreApplication::processEvents();
    dialog->waitForPreview();
    QCoreApplication::processEvents();
    // Defaults for one channel: 28×28.
    CHECK(dialog->preview().size() == QSize(28, 28));
    InputSpec spec = dialog->spec();
    spec.width = spec.height = 20;
    spec.resize = ResizePolicy::Stretch;
    spec.mean = {0.286f};
    spec.std = {0.353f};
    dialog->setSpec(spec);
    dialog->waitForPreview();
    QCoreApplication::processEvents();
    CHECK(dialog->preview().size() == QSize(20, 20));
    CHECK(colours(dialog->preview()) > 8); // an image, not a blank
    QFile labels(dir.filePath("classes.txt"));
    REQUIRE(labels.open(QIODevice::WriteOnly));
    for (const char *c : {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"})
        labels.write(QByteArray(c) + "\n");
    labels.close();
    dialog->setLabelsFile("classes.txt");

    // What the model cannot take is refused, nothing written: a zero std, and 20×20 (its classifier needs 28×28).
    InputSpec bad = spec;
    bad.std = {0.0f};
    dialog->setSpec(bad);
    CHECK_THROWS_AS(dialog->save(), UsageError);
    dialog->setSpec(spec);
    CHECK_THROWS_WITH(dialog->save(), Catch::Contains("not saved"));
    CHECK_FALSE(QFile::exists(dir.filePath("mystery.json")));
    spec.width = spec.height = 28;
    dialog->setSpec(spec);

    const QString written = dialog->save();
    CHECK(written == dir.filePath("mystery.json"));
    REQUIRE(QFile::exists(written));
    dialog->close();

    // The CLI reads it.
    QProcess cli;
    cli.start(QString::fromStdString(testpaths::cli()), {"input-spec", model, "--json"});
    REQUIRE(cli.waitForFinished(60000));
    CHECK(cli.exitCode() == 0);
    const QJsonObject o = QJsonDocument::fromJson(cli.readAllStandardOutput()).object();
    CHECK(o["source"].toString() == written);
    CHECK(o["input"].toObject()["width"].toInt() == 28);
    CHECK(o["input"].toObject()["resize"].toString() == "stretch");
    CHECK(o["input"].toObject()["mean"].toArray()[0].toDouble() == Approx(0.286));
    CHECK(o["labels"].toInt() == 10);

    // The window opened the model again with it: classes have names, the notice is gone.
    w.waitUntilSettled(30000);
    CHECK(w.workspace()->model()->input().mean[0] == Approx(0.286));
    CHECK(w.workspace()->model()->label(9) == "Ankle boot");
    CHECK_FALSE(w.messages()->actionButton()->isVisible());
    saveArtifact(w, "input-spec-after-save.png");
}

TEST_CASE("input spec dialog: the channel order is offered for colour models, the Caffe preset takes BGR, Save writes it", "[gui][inputspec]")
{
    QTemporaryDir dir;
    const QString model = dir.filePath("caffe_like.pt");
    REQUIRE(QFile::copy(QString::fromStdString(testpaths::fixtures() + "/resnet18.scripted.pt"), model));
    InputSpecDialog dialog(Model::load(model.toStdString()), QString());
    QComboBox *presets = nullptr, *order = nullptr;
    for (QComboBox *c : dialog.findChildren<QComboBox *>()) {
        if (c->itemText(0).startsWith("Presets"))
            presets = c;
        if (c->itemText(0).startsWith("RGB"))
            order = c;
    }
    REQUIRE(presets);
    REQUIRE(order);
    CHECK(order->isEnabled());
    CHECK(dialog.spec().order == ChannelOrder::Rgb);
    for (int i = 0; i < presets->count(); ++i)
        if (presets->itemText(i).startsWith("Caffe"))
            presets->setCurrentIndex(i);
    const InputSpec caffe = dialog.spec();
    CHECK(caffe.order == ChannelOrder::Bgr);
    CHECK(caffe.range == 255);
    CHECK(caffe.mean == std::vector<float>{103.53f, 116.28f, 123.675f}); // blue first, as the planes
    CHECK(order->currentText().startsWith("BGR"));
    // Switching the order by hand reverses the mean and std with the planes, and back.
    order->setCurrentIndex(0);
    CHECK(dialog.spec().mean == std::vector<float>{123.675f, 116.28f, 103.53f});
    order->setCurrentIndex(1);
    CHECK(dialog.spec().mean == std::vector<float>{103.53f, 116.28f, 123.675f});
    dialog.show();
    dialog.waitForPreview();
    QCoreApplication::processEvents();
    saveArtifact(dialog, "input-spec-dialog-bgr.png");
    const QString written = dialog.save();
    QFile f(written);
    REQUIRE(f.open(QIODevice::ReadOnly));
    const QJsonObject input = QJsonDocument::fromJson(f.readAll()).object()["input"].toObject();
    CHECK(input["channel_order"].toString() == "bgr");
    CHECK(input["mean"].toArray()[0].toDouble() == Approx(103.53));
    CHECK(Model::load(model.toStdString())->input().order == ChannelOrder::Bgr);

    // A one-channel model has no order to choose.
    InputSpecDialog gray(Model::load(demo().toStdString()), QString());
    for (QComboBox *c : gray.findChildren<QComboBox *>())
        if (c->itemText(0).startsWith("RGB"))
            CHECK_FALSE(c->isEnabled());
}
