// Adapting the demo's descriptors: mAP before/after on unseen classes and on an ordinary split, the adapted
// TorchScript model equal to the head on stored features, its index, stop + resume equal to one run.
#include "CatchTorch.h"

#include "common/Error.h"
#include "common/Progress.h"
#include "data/Preprocessor.h"
#include "model/Model.h"
#include "search/AdaptedModelWriter.h"
#include "search/DescriptorAdaptation.h"
#include "search/DescriptorCompression.h"
#include "search/DescriptorIndex.h"
#include "search/HeadTrainer.h"
#include "DemoProject.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <limits>

using namespace convscope;

namespace {

/// Asks to stop after `after` reports.
class StopAfter : public Progress {
public:
    explicit StopAfter(int after) : left_(after) {}
    void report(std::int64_t, std::int64_t, const std::string &) override { --left_; }
    bool cancelled() const override { return left_ <= 0; }

private:
    int left_;
};

DescriptorAdaptation::Options conv4(const std::string &name)
{
    DescriptorAdaptation::Options o;
    o.name = name;
    o.layer = "features.conv4";
    o.pooling = FeaturePooling::Average;
    o.training.epochs = 4;
    return o;
}

} // namespace

TEST_CASE("adapting the demo's conv4 descriptor raises mAP on unseen classes and on an ordinary split",
          "[search][adapt]")
{
    QTemporaryDir dir;
    const std::string project = dir.filePath("p").toStdString();
    const auto demo = testprojects::scanDemo(project, 10000);

    DescriptorAdaptation::Options o = conv4("unseen");
    o.split.trainClasses = {0, 1, 2, 3, 4};
    DescriptorAdaptation unseen(project, o);
    while (unseen.run()) {
    }
    const auto rows = unseen.finish();
    REQUIRE(rows.size() == 3);
    std::printf("unseen classes 5-9: before %.4f, after %.4f\n", rows[1].result.map, rows[2].result.map);
    CHECK(rows[1].dims == 128);
    CHECK(rows[2].result.map > rows[1].result.map + 0.02);
    CHECK(rows[2].result.queries == 1000);
    CHECK(rows[2].result.database == 5000); // the test images only

    DescriptorAdaptation::Options ordinary = conv4("ordinary");
    ordinary.training.epochs = 8; // the ordinary split gains more slowly, and keeps gaining
    DescriptorAdaptation half(project, ordinary);
    while (half.run()) {
    }
    const auto halfRows = half.finish();
    std::printf("ordinary split: before %.4f, after %.4f\n", halfRows[1].result.map, halfRows[2].result.map);
    CHECK(halfRows[2].result.map > halfRows[1].result.map + 0.03);

    // The saved TorchScript model computes the adapted descriptor from images.
    auto adapted = Model::load(unseen.modelPath());
    const Preprocessor pre(adapted->input());
    std::vector<torch::Tensor> inputs;
    for (std::int64_t i = 0; i < 8; ++i)
        inputs.push_back(pre.tensor(demo.source->image(i)));
    const torch::Tensor fromModel = adapted->forward(torch::stack(inputs));
    const torch::Tensor fromFeatures = unseen.adaptedDescriptors().narrow(0, 0, 8);
    CHECK(torch::allclose(fromModel, fromFeatures, 1e-4, 1e-5));
    CHECK(adapted->layer(AdaptedModelWriter::headLayer).path == "head");
    CHECK(adapted->label(0) == demo.model->label(0));

    // ...and its index answers like any other: a dataset image finds itself first.
    const DescriptorIndex index = DescriptorIndex::open(project, "unseen");
    CHECK(index.size() == 10000);
    CHECK(index.modelPath() == unseen.modelPath());
    const torch::Tensor raw = index.rawFeatures(*adapted, inputs[3].unsqueeze(0));
    const auto hits = index.search(raw, 5);
    CHECK(hits[0][0].image == 3);
    CHECK(std::find(DescriptorIndex::list(project).begin(), DescriptorIndex::list(project).end(), "unseen") !=
          DescriptorIndex::list(project).end());

    // Compression: float32, PCA sizes below 128, PQ 8..64 bytes; PQ with 64 bytes keeps most of the mAP.
    DescriptorCompression::Options co;
    const auto table = DescriptorCompression::table(unseen.adaptedDescriptors(),
                                                    unseen.split().rows(AdaptationSplit::Role::Train),
                                                    unseen.split().testLabels(), co);
    REQUIRE(table.size() == 1 + 5 + 4);
    CHECK(table[0].result.map == Approx(rows[2].result.map).margin(1e-9));
    CHECK(table.back().method == "PQ");
    CHECK(table.back().bytes == 64);
    CHECK(table.back().result.map > 0.9 * table[0].result.map);
    CHECK(table[6].bytes == 8);
    CHECK(table[6].result.map < table.back().result.map);

    CHECK_THROWS_WITH(DescriptorAdaptation(project, conv4("unseen")), Catch::Contains("--resume"));
    DescriptorAdaptation::Options missing = conv4("nothing");
    missing.resume = true;
    CHECK_THROWS_WITH(DescriptorAdaptation(project, missing), Catch::Contains("no adaptation 'nothing'"));
}

TEST_CASE("a stopped adaptation keeps its last finished epoch and resumes to the same head", "[search][adapt]")
{
    QTemporaryDir dir;
    const std::string project = dir.filePath("p").toStdString();
    testprojects::scanDemo(project, 2000);
    DescriptorAdaptation::Options o = conv4("whole");
    o.training.epochs = 3;
    o.training.batch = 64;
    DescriptorAdaptation whole(project, o);
    while (whole.run()) {
    }

    o.name = "stopped";
    {
        DescriptorAdaptation first(project, o);
        first.run();
        StopAfter stop(3);
        CHECK_THROWS_AS(first.run(&stop), CancelledError);
        CHECK(first.finishedEpochs() == 1);
        CHECK(first.history().size() == 1);
    }
    o.resume = true;
    DescriptorAdaptation resumed(project, o);
    CHECK(resumed.finishedEpochs() == 1);
    REQUIRE(resumed.history().size() == 1);
    CHECK(resumed.history()[0].test.map == Approx(whole.history()[0].test.map));
    while (resumed.run()) {
    }
    CHECK(torch::allclose(resumed.adaptedDescriptors(), whole.adaptedDescriptors(), 1e-5, 1e-6));

    // A kill after the last epoch's state was saved but before its history line: resuming scores that epoch again
    // (its loss unknown: NaN, not 0) and the head is the saved one.
    {
        QFile f(QString::fromStdString(resumed.directory() + "/history.json"));
        REQUIRE(f.open(QIODevice::ReadWrite));
        QJsonObject h = QJsonDocument::fromJson(f.readAll()).object();
        QJsonArray epochs = h["epochs"].toArray();
        epochs.removeLast();
        h["epochs"] = epochs;
        f.resize(0);
        f.write(QJsonDocument(h).toJson());
    }
    DescriptorAdaptation afterKill(project, o);
    REQUIRE(afterKill.history().size() == 3);
    CHECK(std::isnan(afterKill.history()[2].loss));
    CHECK(afterKill.history()[2].test.map == Approx(whole.history()[2].test.map));
    CHECK(torch::allclose(afterKill.adaptedDescriptors(), whole.adaptedDescriptors(), 1e-5, 1e-6));

    DescriptorAdaptation::Options other = o;
    other.training.loss.kind = MetricLoss::Kind::Triplet;
    CHECK_THROWS_WITH(DescriptorAdaptation(project, other), Catch::Contains("another loss"));
}

TEST_CASE("a head trainer refuses features it cannot learn from", "[search][adapt]")
{
    const torch::Tensor f = torch::randn({6, 8});
    DescriptorPipeline::Options po;
    po.pca = 4;
    DescriptorPipeline pca(po);
    pca.fit(f);
    const ProjectionHead head(pca, {}, 1);
    CHECK_THROWS_WITH(HeadTrainer(f, {0, 0, 0, 0, 0, 0}, head, {}), Catch::Contains("at least 2 classes"));
    CHECK_THROWS_WITH(HeadTrainer(f, {0, 1, 2, 3, 4, 5}, head, {}), Catch::Contains("at least 2 images"));
    torch::Tensor nan = f.clone();
    nan[2][1] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(HeadTrainer(nan, {0, 0, 0, 1, 1, 1}, head, {}), Catch::Contains("NaN"));
    HeadTrainer::Options one;
    one.epochs = 1;
    HeadTrainer t(f, {0, 0, 0, 1, 1, 1}, head, one);
    const auto e = t.runEpoch();
    CHECK(e.epoch == 1);
    CHECK(std::isfinite(e.loss));
    CHECK(t.done());
    CHECK_THROWS_AS(t.runEpoch(), UsageError);
}

TEST_CASE("fine-tuning the last layers end to end: the saved model carries the trained weights, stop rolls back",
          "[search][adapt]")
{
    QTemporaryDir dir;
    const std::string project = dir.filePath("p").toStdString();
    const auto demo = testprojects::scanDemo(project, 1500);
    DescriptorAdaptation::Options o = conv4("tuned");
    o.fineTuneBlocks = 2; // conv3 (+ bn3) and conv4
    o.training.epochs = 2;
    o.training.batch = 64;
    o.training.backboneLearningRate = 1e-3;
    DescriptorAdaptation whole(project, o);
    while (whole.run()) {
    }
    const auto rows = whole.finish();
    CHECK(rows[2].descriptor.find("3 layers fine-tuned") != std::string::npos); // conv3, bn3, conv4

    auto adapted = Model::load(whole.modelPath());
    const auto weight = [](const torch::jit::Module &m, const std::string &name) {
        for (const auto &p : m.named_parameters(true))
            if (p.name == name)
                return p.value.detach().clone();
        FAIL("no parameter " << name);
        return torch::Tensor();
    };
    const torch::Tensor before4 = weight(demo.model->module(), "features.conv4.weight");
    const torch::Tensor after4 = weight(adapted->module(), "backbone.features.conv4.weight");
    CHECK(!torch::allclose(before4, after4)); // trained
    CHECK(torch::equal(weight(demo.model->module(), "features.conv2.weight"),
                       weight(adapted->module(), "backbone.features.conv2.weight"))); // not trained
    CHECK(torch::equal(weight(demo.model->module(), "features.conv4.weight"), before4)); // the original untouched

    // The saved model computes exactly the descriptors the index holds.
    const Preprocessor pre(adapted->input());
    std::vector<torch::Tensor> inputs;
    for (std::int64_t i = 0; i < 8; ++i)
        inputs.push_back(pre.tensor(demo.source->image(i)));
    CHECK(torch::allclose(adapted->forward(torch::stack(inputs)), whole.adaptedDescriptors().narrow(0, 0, 8), 1e-4,
                          1e-5));

    // Stopped in epoch 2 and resumed: the same network and head as one run.
    o.name = "tuned-stopped";
    {
        DescriptorAdaptation first(project, o);
        first.run();
        StopAfter stop(2);
        CHECK_THROWS_AS(first.run(&stop), CancelledError);
        CHECK(first.finishedEpochs() == 1);
    }
    o.resume = true;
    DescriptorAdaptation resumed(project, o);
    REQUIRE(resumed.finishedEpochs() == 1);
    while (resumed.run()) {
    }
    CHECK(torch::allclose(resumed.adaptedDescriptors(), whole.adaptedDescriptors(), 1e-4, 1e-5));
}
