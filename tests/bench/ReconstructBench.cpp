// Cost of projecting one unit back to the input (deconvnet), Convscope against the straightforward PyTorch-Python
// implementation of the same (eager model, full backward hooks on the ReLUs, forward hook on the layer; run by
// tests/bench/reconstruct_reference.py in this same run, same threads): the demo's conv 3 unit 5 at its maximum,
// for one image and for a unit's top 9 (one batch). Goal: Convscope costs no more (ratio python/convscope >= 1).
// Also: a whole ResNet-18 layer's top-9 projections (what the units panel computes in the background).
#include "BenchTimer.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "data/Preprocessor.h"
#include "explain/Reconstructor.h"
#include "common/RuntimePolicy.h"

#include <ATen/Parallel.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <cstdio>

using namespace convscope;

namespace {

double medianMs(const std::function<void()> &fn, int reps)
{
    for (int i = 0; i < 5; ++i)
        fn();
    std::vector<double> t;
    for (int i = 0; i < reps; ++i)
        t.push_back(bench::seconds(fn) * 1000);
    return bench::median(t);
}

} // namespace

int main(int, char **argv)
{
    RuntimePolicy::init(argv);
    const int reps = 200;
    auto model = Model::load(CONVSCOPE_SOURCE_DIR "/resources/demo/fashion_cnn.pt");
    Reconstructor rec(model);
    const int layer = model->layer("features.conv3").index;
    // The first nine test images as the model sees them (the reference reads the same nine).
    auto source = ImageSource::open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    const Preprocessor pre(model->input());
    std::vector<torch::Tensor> images;
    for (int i = 0; i < 9; ++i)
        images.push_back(pre.tensor(source->image(i)));
    const torch::Tensor nine = torch::stack(images);
    QProcess py;
    for (int threads : {1, at::get_num_threads()}) {
        at::set_num_threads(threads);
        py.start("/usr/bin/python3", {CONVSCOPE_SOURCE_DIR "/tests/bench/reconstruct_reference.py",
                                      CONVSCOPE_SOURCE_DIR "/resources/demo", QString::number(threads),
                                      QString::number(reps)});
        if (!py.waitForFinished(600000) || py.exitCode() != 0) {
            std::printf("python reference failed: %s\n", py.readAllStandardError().constData());
            return 1;
        }
        const QJsonObject ref = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
        const torch::Tensor one = nine.slice(0, 0, 1);
        const double oneMs = medianMs([&] { rec.unit(one, layer, {5, -1, -1}, BackpropRule::Deconvnet); }, reps);
        const std::vector<UnitTarget> targets(9, UnitTarget{5, -1, -1});
        const double nineMs = medianMs([&] { rec.units(nine, layer, targets, BackpropRule::Deconvnet); }, reps);
        std::printf("demo conv3 unit 5, deconvnet, %d thread(s):\n", threads);
        std::printf("  one image:  convscope %.3f ms, pytorch %.3f ms, ratio pytorch/convscope %.2f\n", oneMs,
                    ref["one"].toDouble(), ref["one"].toDouble() / oneMs);
        std::printf("  top 9:      convscope %.3f ms, pytorch %.3f ms, ratio pytorch/convscope %.2f\n", nineMs,
                    ref["nine"].toDouble(), ref["nine"].toDouble() / nineMs);
    }

    // A ResNet-18 layer's top-9 projections (random weights, 224×224 inputs): what the units panel computes.
    at::set_num_threads(RuntimePolicy::cores());
    auto resnet = Model::load(CONVSCOPE_FIXTURE_DIR "/resnet18.traced.pt");
    Reconstructor big(resnet);
    const int layer2 = resnet->layer("layer2").index;
    const torch::Tensor photos = torch::randn({9, 3, 224, 224});
    const auto units = resnet->layers()[static_cast<size_t>(layer2)].outputShape.at(1);
    const double unitMs = medianMs(
        [&] { big.units(photos, layer2, std::vector<UnitTarget>(9, UnitTarget{3, -1, -1}), BackpropRule::Deconvnet); },
        10);
    std::printf("resnet18 layer2 (%lld units): %.1f ms per unit's top 9 -> %.1f s for the layer\n",
                static_cast<long long>(units), unitMs, unitMs * static_cast<double>(units) / 1000);
    return 0;
}
