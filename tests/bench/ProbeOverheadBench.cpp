// Capture-all overhead: one probe pass returning every module call's output vs a bare forward() of the same
// model, batch 1 and 32, for the demo and a ResNet-18 (traced, random weights, 128×128 input).
// Goal: ratio <= 1.10 at batch 32.
// Needs the test fixtures (run ctest once, or tests/fixtures/make_models.py build/fixtures).
#include "BenchTimer.h"
#include "model/Model.h"
#include "common/RuntimePolicy.h"

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

} // namespace

int main(int argc, char **argv)
{
    const int threads = RuntimePolicy::init(argv);
    if (argc > 2 && std::string(argv[2]) == "--system-allocator") { // the baseline before applyAllocator()
        mallopt(M_MMAP_MAX, 65536);
        mallopt(M_TRIM_THRESHOLD, 128 * 1024);
        std::printf("(glibc's default allocator settings)\n");
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
