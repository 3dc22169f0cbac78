// ModelComparison's parts that the CLI test does not reach: the tensor memory meter, multiply-add shares of
// architectures with known layer mixes, progress across phases, and cancelling.
#include "CatchTorch.h"

#include "common/Error.h"
#include "common/Progress.h"
#include "compare/ModelComparison.h"
#include "compare/TensorMemoryMeter.h"
#include "model/Model.h"
#include "TestPaths.h"

#include <cmath>
#include <set>

using namespace convscope;

TEST_CASE("the tensor memory meter sees the peak of live tensors, not their sum", "[compare]")
{
    const std::int64_t mb4 = 4 << 20;
    TensorMemoryMeter::Scope scope;
    {
        torch::Tensor a = torch::empty({1 << 20}, torch::kFloat32); // 4 MiB
        CHECK(scope.peakBytes() >= mb4);
    }
    {
        torch::Tensor b = torch::empty({1 << 20}, torch::kFloat32); // the first is freed: the peak stays 4 MiB
        torch::Tensor c = torch::empty({1 << 18}, torch::kFloat32); // + 1 MiB
        CHECK(scope.peakBytes() >= mb4 + mb4 / 4);
        CHECK(scope.peakBytes() < 2 * mb4);
    }
}

TEST_CASE("multiply-add shares follow the architecture's layer mix", "[compare]")
{
    // The demo: four full 3x3 convolutions and three linear layers.
    auto demo = Model::load(testpaths::demoModel());
    const auto s = ModelComparison::sharesOf(*demo);
    CHECK(s.depthwise == 0);
    CHECK(s.pointwise == 0);
    CHECK(s.full > 0.9);
    CHECK(s.fullyConnected > 0.005);
    CHECK(s.full + s.fullyConnected + s.other == Approx(1.0));
    // MobileNet v3: depthwise and pointwise convolutions carry nearly all of the work, pointwise the most.
    auto mobile = Model::load(testpaths::fixtures() + "/mobilenet_v3_small.scripted.pt");
    const auto m = ModelComparison::sharesOf(*mobile);
    CHECK(m.pointwise > m.depthwise);
    CHECK(m.depthwise > 0.02);
    CHECK(m.pointwise + m.depthwise > 0.8);
}

namespace {

class Recorder : public Progress {
public:
    void report(std::int64_t done, std::int64_t total, const std::string &what) override
    {
        phases.insert(what.substr(0, what.find(' ')));
        CHECK(done <= total);
        if (stopAfter > 0 && ++calls >= stopAfter)
            stop = true;
    }
    bool cancelled() const override { return stop; }
    std::set<std::string> phases;
    int calls = 0, stopAfter = 0;
    bool stop = false;
};

} // namespace

TEST_CASE("a comparison goes through loading, evaluation and timing, and stops when asked", "[compare]")
{
    const std::string dataset = testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz";
    ModelComparison::Options o;
    o.limit = 250;
    o.rounds = 2;
    o.singleRuns = 2;
    o.throughputRuns = 1;
    ModelComparison c({testpaths::demoModel(), testpaths::source() + "/does/not/exist.pt"}, dataset, o);
    Recorder progress;
    double last = 0;
    int steps = 0;
    while (!c.run(&progress)) {
        CHECK(c.fraction() >= last);
        last = c.fraction();
        REQUIRE(++steps < 1000);
    }
    CHECK(c.fraction() == 1.0);
    CHECK(progress.phases == std::set<std::string>{"loading", "evaluating", "timing"});
    const auto &rows = c.rows();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].ok());
    CHECK(rows[0].evaluated == 250);
    CHECK(rows[0].top1 > 0.85);
    CHECK(rows[0].msPerImage > 0);
    CHECK(rows[0].lastConv == "features.conv4");
    CHECK(c.model(0) != nullptr);
    CHECK(!rows[1].ok());
    CHECK(rows[1].error.find("exist.pt") != std::string::npos);
    CHECK(c.model(1) == nullptr);

    Recorder stopping;
    stopping.stopAfter = 3;
    ModelComparison d({testpaths::demoModel()}, dataset, o);
    CHECK_THROWS_AS([&] { while (!d.run(&stopping)) {} }(), CancelledError);

    CHECK_THROWS_AS(ModelComparison({}, dataset, o), UsageError);
    CHECK_THROWS_AS(ModelComparison({testpaths::demoModel()}, testpaths::source() + "/no/such/dataset", o), Error);
}

TEST_CASE("a model that runs only at batch 1 keeps its row: no accuracy and no images/s, the rest measured",
          "[compare]")
{
    // Traced with the batch size baked into a reshape: batch 100 (evaluation) and 32 (throughput) are refused.
    ModelComparison::Options o;
    o.limit = 50;
    o.rounds = 1;
    const auto rows = ModelComparison::compare({testpaths::fixtures() + "/models/batch_one.pt"},
                                               testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz", o);
    REQUIRE(rows.size() == 1);
    const auto &r = rows[0];
    INFO(r.error);
    CHECK(r.ok());
    CHECK(r.accuracyNote.find("evaluation failed") != std::string::npos);
    CHECK(r.throughputNote.find("batch 32") != std::string::npos);
    CHECK(std::isnan(r.top1));
    CHECK(std::isnan(r.imagesPerSecond));
    CHECK(r.msPerImage > 0);
    CHECK(r.macs > 0);
    CHECK(r.peakBytes1 > r.weightBytes);
    CHECK(r.peakBytesBatch == 0);
}
