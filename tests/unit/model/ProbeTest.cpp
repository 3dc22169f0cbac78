// The probe's captured activations equal what PyTorch forward hooks saw in eager mode (fixtures written by
// tests/fixtures/make_models.py), for every torchvision architecture, scripted and traced.
#include "CatchTorch.h"

#include "model/Model.h"
#include "common/NpyFile.h"
#include "model/Probe.h"
#include "HookReference.h"
#include "TestPaths.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <torch/script.h>
#include <ATen/Parallel.h>

#include <algorithm>

using namespace convscope;

namespace {

using hookref::RefCall;
using hookref::readCalls;

std::string callName(const std::vector<ModuleCall> &calls, size_t i)
{
    int count = 0, number = 0;
    for (size_t k = 0; k < calls.size(); ++k)
        if (calls[k].modulePath == calls[i].modulePath) {
            ++count;
            if (k <= i)
                ++number;
        }
    return count > 1 ? calls[i].modulePath + "#" + std::to_string(number) : calls[i].modulePath;
}

void checkArchitecture(const std::string &arch, const std::string &mode)
{
    hookref::OneThread oneThread;
    const std::string dir = testpaths::fixtures() + "/" + arch;
    auto module = torch::jit::load(testpaths::fixtures() + "/" + arch + "." + mode + ".pt");
    module.eval();
    const std::string before = module.get_method("forward").graph()->toString();
    Probe probe(module);
    // The rewrite works on a copy: the loaded module's own graph is untouched.
    CHECK(module.get_method("forward").graph()->toString() == before);
    const auto refs = readCalls(dir);
    const auto &calls = probe.calls();

    // Same calls, same names, same order as the hooks fired.
    std::vector<std::string> ours, theirs;
    for (size_t i = 0; i < calls.size(); ++i)
        ours.push_back(callName(calls, i));
    for (const auto &r : refs)
        theirs.push_back(r.name);
    REQUIRE(ours == theirs);

    torch::Tensor input = NpyFile::read(dir + "/input.npy");
    auto out = probe.run(input, probe.capturable());
    auto capturable = probe.capturable();
    size_t compared = 0;
    for (size_t k = 0; k < capturable.size(); ++k) {
        const RefCall &ref = refs[capturable[k]];
        INFO(arch << " " << mode << " " << ref.name << " (" << ref.type << ")");
        REQUIRE_FALSE(ref.file.empty());
        torch::Tensor expected = NpyFile::read(dir + "/" + ref.file);
        torch::Tensor got = out.captured[k];
        REQUIRE(got.sizes() == expected.sizes());
        double diff = (got - expected).abs().max().item<double>();
        CHECK(diff <= 1e-6);
        ++compared;
    }
    // Every call whose hook saw a tensor is captured.
    size_t tensorCalls = 0;
    for (const auto &r : refs)
        tensorCalls += r.file.empty() ? 0 : 1;
    // ...except modules the tracer dropped entirely (StochasticDepth in eval): nothing in the file says what they saw.
    size_t tracedNoOps = 0;
    for (const auto &c : calls)
        if (c.output < 0) {
            INFO(arch << " " << mode << ": not captured: " << c.modulePath << ": " << c.whyNot);
            CHECK(mode == "traced");
            CHECK(c.whyNot.find("traced as a no-op") == 0);
            ++tracedNoOps;
        }
    CHECK(compared + tracedNoOps == tensorCalls);
    // And the model output is untouched by the rewrite.
    torch::Tensor logits = out.modelOutput.isTensor() ? out.modelOutput.toTensor()
                                                      : out.modelOutput.toTupleRef().elements()[0].toTensor();
    CHECK((logits - NpyFile::read(dir + "/output.npy")).abs().max().item<double>() <= 1e-6);
    // ...and the module itself still computes the same result after the probe ran.
    torch::NoGradGuard noGrad;
    CHECK((Model::firstTensor(module.forward({input})) - logits).abs().max().item<double>() <= 1e-6);
}

} // namespace

#define ARCH_TEST(arch)                                                                                      \
    TEST_CASE("probe equals forward hooks: " #arch, "[model][probe][hooks]")                                         \
    {                                                                                                        \
        SECTION("scripted") { checkArchitecture(#arch, "scripted"); }                                        \
        SECTION("traced") { checkArchitecture(#arch, "traced"); }                                            \
    }

ARCH_TEST(alexnet)
ARCH_TEST(vgg11)
ARCH_TEST(vgg11_bn)
ARCH_TEST(resnet18)
ARCH_TEST(resnext)
ARCH_TEST(densenet)
ARCH_TEST(googlenet)
ARCH_TEST(inception_v3)
ARCH_TEST(squeezenet)
ARCH_TEST(mobilenet_v2)
ARCH_TEST(mobilenet_v3_small)
ARCH_TEST(shufflenet_v2)
ARCH_TEST(mnasnet)
ARCH_TEST(efficientnet)
ARCH_TEST(regnet)
ARCH_TEST(convnext)
ARCH_TEST(inplace) // in-place ops on values that are not reassigned
ARCH_TEST(alexnet_lrn) // local response normalisation (also exported to ONNX as LRN)

TEST_CASE("probe reduces maps inside the graph to what the whole maps give", "[model][probe]")
{
    for (const char *arch : {"resnet18", "inplace", "densenet", "mobilenet_v3_small", "efficientnet"}) {
        INFO(arch);
        auto module = torch::jit::load(testpaths::fixtures() + "/" + arch + ".scripted.pt");
        module.eval();
        Probe probe(module);
        const torch::Tensor input = NpyFile::read(testpaths::fixtures() + "/" + arch + "/input.npy");
        const auto all = probe.capturable();
        const auto whole = probe.run(input, all);
        std::vector<int> maps;
        std::vector<torch::Tensor> expected;
        for (size_t k = 0; k < all.size(); ++k)
            if (whole.captured[k].dim() == 4) {
                maps.push_back(all[k]);
                expected.push_back(whole.captured[k]);
            }
        REQUIRE(maps.size() > 3);
        std::vector<Probe::Reduced> stats;
        const auto out = probe.run(input, {}, maps, stats);
        REQUIRE(stats.size() == maps.size());
        for (size_t k = 0; k < maps.size(); ++k) {
            const torch::Tensor flat = expected[k].flatten(2);
            CHECK(torch::equal(stats[k].max, std::get<0>(flat.max(2))));
            CHECK(torch::equal(stats[k].argmax, flat.argmax(2)));
            CHECK(torch::allclose(stats[k].mean, flat.mean(2), 1e-5, 1e-6));
        }
        // The model's own output is untouched.
        CHECK(torch::equal(Model::firstTensor(out.modelOutput), Model::firstTensor(whole.modelOutput)));
        // Nested calls that return the same map (a block, the Sequential in it, its last layer) share one
        // reduction: the same statistics tensors, computed once.
        size_t shared = 0;
        for (size_t k = 0; k < stats.size(); ++k)
            for (size_t j = 0; j < k; ++j)
                if (stats[k].max.is_same(stats[j].max)) {
                    ++shared;
                    CHECK(torch::equal(expected[k], expected[j]));
                    break;
                }
        if (std::string(arch) != "inplace" && std::string(arch) != "densenet")
            CHECK(shared > 0);

        // A variant returning a few captures whole (and reducing others) protects only those from the model's
        // in-place ops: they still equal what the all-captures graph returns.
        std::vector<int> some, someIndex, rest;
        for (size_t k = 0; k < all.size(); ++k) {
            if (k % 3 == 1) {
                some.push_back(all[k]);
                someIndex.push_back(static_cast<int>(k));
            } else {
                rest.push_back(all[k]);
            }
        }
        std::vector<int> restMaps;
        for (int r : rest)
            if (std::find(maps.begin(), maps.end(), r) != maps.end())
                restMaps.push_back(r);
        std::vector<Probe::Reduced> restStats;
        const auto mixed = probe.run(input, some, restMaps, restStats);
        REQUIRE(mixed.captured.size() == some.size());
        for (size_t j = 0; j < some.size(); ++j)
            CHECK(torch::equal(mixed.captured[j], whole.captured[static_cast<size_t>(someIndex[j])]));
        for (size_t j = 0; j < restMaps.size(); ++j) {
            const size_t k = static_cast<size_t>(std::find(maps.begin(), maps.end(), restMaps[j]) - maps.begin());
            CHECK(torch::equal(restStats[j].max, stats[k].max));
            CHECK(torch::equal(restStats[j].argmax, stats[k].argmax));
        }
        CHECK(torch::equal(Model::firstTensor(mixed.modelOutput), Model::firstTensor(whole.modelOutput)));
    }
}
