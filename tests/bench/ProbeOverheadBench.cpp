// Capture-all overhead: one probe pass returning every module call's output vs a bare forward() of the same
// model, batch 1 and 32, for the demo and a ResNet-18 (traced, random weights, 128×128 input).
// Goal: ratio <= 1.10 at batch 32.
// Needs the test fixtures (run ctest once, or tests/fixtures/make_models.py build/fixtures).
#include "BenchTimer.h"
#include "model/Model.h"
#include "common/RuntimePolicy.h"
#include "model/ChannelStatistics.h"
#include "scan/Scan.h"

#include <cstdio>
#include <malloc.h>

using namespace convscope;

namespace {

void measure(const std::string &label, const std::string &path, int size, int batch, int reps)
{
    auto model = Model::load(path);
    const InputSpec &in = model->input();
    const int h = size ? size : in.height, w = size ? size : in.width;
    torch::Tensor x = torch::randn({batch, in.channels, h, w});
    const std::vector<int> all = model->probe().capturable();
    auto [bare, capture] = bench::alternate([&] { model->forward(x); },
                                            [&] { model->probe().run(x, all); }, reps);
    std::printf("%-10s batch %2d  %3zu captures   bare %8.2f ms   capture-all %8.2f ms   ratio %.3f\n",
                label.c_str(), batch, all.size(), bare * 1e3, capture * 1e3, capture / bare);
    std::fflush(stdout);
}

/// Where a deep model's scan forward pass loses time against a bare forward: the probe graph with nothing
/// captured, and with every 4-D map reduced in the graph (what a scan with --features none runs), batch 64 on
/// 224×224 noise. Models from tests/bench/scan_inputs.py (ScanBench makes them in build/bench-inputs).
void measureDeep(const std::string &name, int reps)
{
    const std::string path = CONVSCOPE_BINARY_DIR "/bench-inputs/models/" + name + ".pt";
    auto model = Model::load(path);
    torch::Tensor x = torch::randn({64, 3, 224, 224});
    const std::vector<int> maps = Scan::defaultLayers(*model);
    std::vector<Probe::Reduced> stats;
    const double firstBare = bench::seconds([&] { model->forward(x); });
    const double firstReduced = bench::seconds([&] { model->probe().run(x, {}, maps, stats); });
    std::printf("%-19s first runs: bare %.2f s, maps reduced %.2f s (graph variant built and profiled)\n",
                name.c_str(), firstBare, firstReduced);
    auto [bare, none] = bench::alternate([&] { model->forward(x); }, [&] { model->probe().run(x, {}); }, reps, 1);
    auto [bare2, reduced] = bench::alternate([&] { model->forward(x); },
                                             [&] { model->probe().run(x, {}, maps, stats); }, reps, 1);
    std::printf("%-19s batch 64  bare %7.1f ms   probe, no capture %.3f of bare   %3zu maps reduced %.3f of bare\n",
                name.c_str(), bare * 1e3, bare / none, maps.size(), bare2 / reduced);
    // The parts: the maps returned whole, and their statistics computed afterwards.
    std::vector<torch::Tensor> whole;
    auto [bare3, captured] = bench::alternate([&] { model->forward(x); },
                                              [&] { whole = model->probe().run(x, maps).captured; }, reps, 1);
    std::vector<double> times;
    for (int r = 0; r < reps; ++r)
        times.push_back(bench::seconds([&] {
            for (const torch::Tensor &m : whole)
                ChannelStatistics::of(m);
        }));
    std::int64_t values = 0;
    for (const torch::Tensor &m : whole)
        values += m.numel();
    std::printf("%-19s   maps returned whole %.3f of bare; their statistics afterwards %.1f ms (%.0f MB)\n", "",
                bare3 / captured, bench::median(times) * 1e3, static_cast<double>(values) * 4e-6);
    // The same 64 images in sub-batches: smaller maps stay in cache between the op that makes them and the
    // statistics that read them. Against the bare forward at 64 and at the same sub-batch.
    for (int sub : {32, 16, 8}) {
        const std::vector<torch::Tensor> parts = x.split(sub);
        auto [bare64, reducedSub] = bench::alternate([&] { model->forward(x); },
                                                     [&] {
                                                         for (const torch::Tensor &p : parts)
                                                             model->probe().run(p, {}, maps, stats);
                                                     },
                                                     reps, 1);
        auto [bareSub, reducedSub2] = bench::alternate(
            [&] {
                for (const torch::Tensor &p : parts)
                    model->forward(p);
            },
            [&] {
                for (const torch::Tensor &p : parts)
                    model->probe().run(p, {}, maps, stats);
            },
            reps, 1);
        std::printf("%-19s   in sub-batches of %2d: maps reduced %.3f of bare at 64, %.3f of bare at %d\n", "", sub,
                    bare64 / reducedSub, bareSub / reducedSub2, sub);
    }
}

} // namespace

int main(int argc, char **argv)
{
    const int threads = RuntimePolicy::init(argv);
    if (argc > 2 && std::string(argv[2]) == "--system-allocator") { // the baseline before applyAllocator()
        mallopt(M_MMAP_MAX, 65536);
        mallopt(M_TRIM_THRESHOLD, 128 * 1024);
        std::printf("(glibc's default allocator settings)\n");
    }
    if (argc > 1 && std::string(argv[1]) == "--deep") { // ProbeOverheadBench --deep [model,model...]
        const std::string list = argc > 2 ? argv[2] : "mobilenet_v3_small,efficientnet_b0,densenet121,resnet50";
        std::printf("probe variants vs bare forward, %d threads (median of alternating runs)\n", threads);
        for (size_t from = 0; from < list.size();) {
            const size_t to = std::min(list.find(',', from), list.size());
            measureDeep(list.substr(from, to - from), 5);
            from = to + 1;
        }
        return 0;
    }
    const std::string fixtures = argc > 1 ? argv[1] : CONVSCOPE_FIXTURE_DIR;
    std::printf("capture-all vs bare forward, %d threads (median of alternating runs)\n", threads);
    measure("demo", CONVSCOPE_SOURCE_DIR "/resources/demo/fashion_cnn.pt", 0, 1, 200);
    measure("demo", CONVSCOPE_SOURCE_DIR "/resources/demo/fashion_cnn.pt", 0, 32, 60);
    measure("resnet18", fixtures + "/resnet18.traced.pt", 128, 1, 30);
    measure("resnet18", fixtures + "/resnet18.traced.pt", 128, 32, 7);
    measure("resnet18-s", fixtures + "/resnet18.scripted.pt", 128, 32, 7);
    return 0;
}
