// ONNX import: how long loading takes and how fast the imported module runs, against the same model as TorchScript.
//   OnnxBench [--reps N]
// Inputs are made once by onnx_inputs.py under the build folder (torchvision ResNet-18, MobileNetV2, ResNet-50,
// random weights): scripted .pt and exported .onnx of the same model.
//
// Prints, per model: import time (OnnxImporter alone, and Model::load with its layer table and receptive fields),
// and the forward time at batch 1 and 32 of the ONNX import and of the TorchScript model, measured interleaved, with
// their ratio (TorchScript time / ONNX time: ≥ 1 means the import is at least as fast).
#include "BenchTimer.h"

#include "common/RuntimePolicy.h"
#include "import/OnnxImporter.h"
#include "model/Model.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace convscope;

int main(int argc, char **argv)
{
    const int threads = RuntimePolicy::init(argv); // as the app runs: all cores, passive waiting
    int reps = 7;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "--reps")
            reps = std::atoi(argv[i + 1]);
    const std::string dir = std::string(CONVSCOPE_BINARY_DIR) + "/bench-inputs/onnx";
    const std::string make = "/usr/bin/python3 " + std::string(CONVSCOPE_SOURCE_DIR) + "/tests/bench/onnx_inputs.py " + dir;
    if (std::system(make.c_str()) != 0) {
        std::fprintf(stderr, "cannot make the inputs (%s)\n", make.c_str());
        return 1;
    }
    std::printf("threads: %d\n", threads);
    std::printf("%-14s %12s %12s  %-6s %10s %10s %7s\n", "model", "import (s)", "load (s)", "batch", "ONNX (ms)",
                "TS (ms)", "TS/ONNX");
    for (const std::string name : {"resnet18", "mobilenet_v2", "resnet50"}) {
        const std::string onnxPath = dir + "/" + name + ".onnx", tsPath = dir + "/" + name + ".pt";
        const double importTime = bench::seconds([&] { OnnxImporter::importFile(onnxPath); });
        std::shared_ptr<const Model> onnx;
        const double loadTime = bench::seconds([&] { onnx = Model::load(onnxPath); });
        auto ts = Model::load(tsPath);
        for (int batch : {1, 32}) {
            torch::Tensor x = torch::randn({batch, 3, 224, 224});
            const int n = batch == 1 ? reps * 4 : reps;
            auto [a, b] = bench::alternate([&] { onnx->forward(x); }, [&] { ts->forward(x); }, n, 2);
            std::printf("%-14s %12.2f %12.2f  %-6d %10.1f %10.1f %7.2f\n", name.c_str(), importTime, loadTime, batch,
                        a * 1e3, b * 1e3, b / a);
            std::fflush(stdout);
        }
    }
    return 0;
}
