// Descriptor adaptation speed: the default head training (contrastive loss, hard negatives, 10 epochs, 128-d) on
// the stored features of Fashion-MNIST's 60,000 training images (the demo model's conv4, SPoC), split 90 % train /
// 10 % test. Goal: the whole adaptation (before evaluation, 10 epochs each scored on the test images, model and
// index written) under 2 minutes on the 2-core machine; printed as a ratio to that budget, with the time per
// epoch and the mAP before and after. The features scan is timed separately (not part of the goal).
// Usage: AdaptBench [epochs]
#include "BenchTimer.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "scan/StoredScan.h"
#include "search/DescriptorAdaptation.h"

#include <QTemporaryDir>

#include <cstdio>
#include <cstdlib>

using namespace convscope;

int main(int argc, char **argv)
{
    const int epochs = argc > 1 ? std::atoi(argv[1]) : 10;
    QTemporaryDir dir;
    const std::string project = dir.filePath("p").toStdString();
    const std::string data = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    auto model = Model::load(std::string(CONVSCOPE_SOURCE_DIR) + "/resources/demo/fashion_cnn.pt");
    std::shared_ptr<const ImageSource> source(ImageSource::open(data));
    const double scanSeconds = bench::seconds([&] {
        StoredScan::Options so;
        so.project = project;
        so.scan.layers = {"features.conv4"};
        so.scan.features = {"features.conv4:avg"};
        StoredScan scan(model, source, data, so);
        while (scan.run(16)) {
        }
    });
    std::printf("features of %lld training images (features.conv4, SPoC): %.1f s\n",
                static_cast<long long>(source->size()), scanSeconds);

    DescriptorAdaptation::Options o;
    o.name = "bench";
    o.layer = "features.conv4";
    o.split.trainFraction = 0.9;
    o.training.epochs = epochs;
    std::vector<DescriptorAdaptation::Row> rows;
    double setup = 0, training = 0;
    const double total = bench::seconds([&] {
        std::unique_ptr<DescriptorAdaptation> a;
        setup = bench::seconds([&] { a = std::make_unique<DescriptorAdaptation>(project, o); });
        std::printf("%s\n", a->split().describe().c_str());
        training = bench::seconds([&] {
            while (a->run()) {
            }
        });
        rows = a->finish();
    });
    std::printf("set-up (features read, split, PCA, before scored): %.1f s\n", setup);
    std::printf("training: %d epochs in %.1f s (%.2f s per epoch, each scored on the test images)\n", epochs, training,
                training / epochs);
    for (const auto &r : rows)
        std::printf("  %-58s mAP %.4f  P@10 %.4f\n", r.descriptor.c_str(), r.result.map, r.result.precisionAtK);
    std::printf("adaptation in all: %.1f s = %.2f of the 120 s budget (goal: <= 1.00)\n", total, total / 120.0);
    return 0;
}
