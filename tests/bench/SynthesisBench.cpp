// Cost of synthesising an image for one unit (128 steps), Convscope's UnitSynthesizer against the straightforward
// PyTorch-Python loop with the same parametrisation, transforms and optimiser (tests/bench/synthesis_reference.py,
// run in this same process tree, same threads, one after the other): the demo's features.relu3 unit 5 at 28 px and a
// ResNet-18 (seeded random weights) layer3 unit 10 at 224 px. Goal: Convscope within 2× of PyTorch (ratio
// python/convscope >= 0.5). Also prints the loss and the unit's final response, to see both optimise alike.
//
// Usage: SynthesisBench [steps]
#include "BenchTimer.h"
#include "common/RuntimePolicy.h"
#include "explain/UnitSynthesizer.h"
#include "model/Model.h"

#include <ATen/Parallel.h>

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <cstdio>
#include <cstdlib>

using namespace convscope;

namespace {

double msPerStep(const std::shared_ptr<const Model> &model, const std::string &layer, int unit, int steps,
                 float &response)
{
    UnitSynthesizer::Options o;
    o.steps = steps;
    o.objective = UnitSynthesizer::Objective::Channel; // the reference's objective: the map's mean
    UnitSynthesizer s(model, {{model->layer(layer).index, unit, -1, -1}}, o);
    s.run(2); // graph set-up outside the timing (the reference's first steps are timed; they cost it little)
    const double seconds = bench::seconds([&] {
        while (!s.run(16)) {
        }
    });
    response = s.result().objective.at(0);
    return seconds * 1000 / (steps - 2);
}

} // namespace

int main(int argc, char **argv)
{
    RuntimePolicy::init(argv);
    const int steps = argc > 1 ? std::atoi(argv[1]) : 128;
    const QString out = CONVSCOPE_BINARY_DIR "/bench-inputs/synthesis";
    QDir().mkpath(out);
    const int threads = at::get_num_threads();
    QProcess py;
    py.start("/usr/bin/python3", {CONVSCOPE_SOURCE_DIR "/tests/bench/synthesis_reference.py", out,
                                  QString::number(threads), QString::number(steps)});
    if (!py.waitForFinished(1800000) || py.exitCode() != 0) {
        std::printf("python reference failed: %s\n", py.readAllStandardError().constData());
        return 1;
    }
    const QJsonObject ref = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
    auto demo = Model::load(CONVSCOPE_SOURCE_DIR "/resources/demo/fashion_cnn.pt");
    auto resnet = Model::load((out + "/resnet18.pt").toStdString());
    float r1 = 0, r2 = 0;
    const double demoMs = msPerStep(demo, "features.relu3", 5, steps, r1);
    const double resnetMs = msPerStep(resnet, "layer3", 10, steps, r2);
    std::printf("SynthesisBench: %d steps, %d threads (ms per step; ratio = python / convscope, goal >= 0.5)\n", steps,
                threads);
    std::printf("  demo features.relu3 unit 5, 28 px:  convscope %8.2f  python %8.2f  ratio %.2f  (response %.3g)\n",
                demoMs, ref["demo"].toDouble(), ref["demo"].toDouble() / demoMs, static_cast<double>(r1));
    std::printf("  resnet18 layer3 unit 10, 224 px:    convscope %8.2f  python %8.2f  ratio %.2f  (response %.3g)\n",
                resnetMs, ref["resnet18"].toDouble(), ref["resnet18"].toDouble() / resnetMs, static_cast<double>(r2));
    return 0;
}
