// A descriptor index of the demo grown with new images without rebuilding.
#include "CatchTorch.h"

#include "search/DescriptorIndex.h"
#include "search/DescriptorPipeline.h"
#include "common/Error.h"
#include "search/ExactIndex.h"
#include "search/FaissIndex.h"
#include "data/ImageSource.h"
#include "data/Preprocessor.h"
#include "search/RetrievalEvaluator.h"
#include "scan/StoredScan.h"
#include "DemoProject.h"
#include "TestPaths.h"

#include <QTemporaryDir>

#include <algorithm>
#include <set>

#include "SearchTestData.h"

using namespace searchtest;
using namespace convscope;

TEST_CASE("a demo descriptor index grows with new images without rebuilding", "[search]")
{
    QTemporaryDir dir;
    const std::string project = dir.filePath("p").toStdString();
    const auto [model, source] = testprojects::scanDemo(project, 300);
    DescriptorIndex::Options o;
    o.layer = "classifier.fc1";
    o.pooling = FeaturePooling::None;
    o.pipeline.pca = 64;
    DescriptorIndex index = DescriptorIndex::build(project, o);
    REQUIRE(index.size() == 300);
    CHECK_THROWS_AS(DescriptorIndex::build(project, [] {
                        DescriptorIndex::Options bad;
                        bad.layer = "classifier.fc1";
                        bad.pooling = FeaturePooling::Max;
                        return bad;
                    }()),
                    UsageError);
    // Images 300..349, described by the same model, added later.
    const Preprocessor pre(model->input());
    std::vector<torch::Tensor> inputs;
    std::vector<std::int64_t> ids;
    for (std::int64_t i = 300; i < 350; ++i) {
        inputs.push_back(pre.tensor(source->image(i)));
        ids.push_back(i);
    }
    const torch::Tensor raw = index.rawFeatures(*model, torch::stack(inputs));
    index.add(raw, ids);
    const DescriptorIndex reopened = DescriptorIndex::open(project);
    REQUIRE(reopened.size() == 350);
    const auto hits = reopened.search(raw[20], 3);
    CHECK(hits[0][0].image == 320); // finds itself first
    CHECK(hits[0][0].distance < 1e-4);
    // The stored features of a scanned image equal what the model computes for it now.
    const torch::Tensor stored = reopened.datasetFeatures()[5];
    const torch::Tensor now = reopened.rawFeatures(*model, pre.tensor(source->image(5)).unsqueeze(0))[0];
    CHECK((stored - now).abs().max().item<double>() < 1e-4);
}
