// The descriptor pipeline: PCA rotation keeps distances, whitening decorrelates, NaN rows are skipped.
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
#include "TestPaths.h"

#include <QTemporaryDir>

#include <algorithm>
#include <set>

#include "SearchTestData.h"

using namespace searchtest;
using namespace convscope;

TEST_CASE("descriptor PCA: rotation keeps distances, whitening decorrelates, NaN rows are skipped", "[search]")
{
    torch::Tensor x = clustered(500, 24, 5, 3);
    x[7].fill_(NAN); // a skipped image
    DescriptorPipeline::Options o;
    o.pca = 24; // a full rotation
    o.renormalise = false;
    DescriptorPipeline full(o);
    full.fit(x);
    const torch::Tensor t = full.transform(x);
    CHECK(t.size(1) == 24);
    CHECK(t[7].isnan().all().item<bool>());
    const torch::Tensor n = x / x.norm(2, 1, true); // what the pipeline rotates
    const std::vector<std::int64_t> a{0, 1, 2, 100}, b{3, 50, 499, 200};
    for (size_t i = 0; i < a.size(); ++i)
        CHECK((t[a[i]] - t[b[i]]).norm().item<double>() ==
              Approx((n[a[i]] - n[b[i]]).norm().item<double>()).epsilon(1e-4));
    const torch::Tensor ev = full.explainedVariance();
    CHECK(ev[-1].item<double>() == Approx(1.0).epsilon(1e-5));
    CHECK((ev.slice(0, 1) - ev.slice(0, 0, -1)).min().item<double>() >= -1e-6); // cumulative
    // Whitened components: unit variance, uncorrelated (on the rows the PCA learned from).
    o.pca = 8;
    o.whiten = true;
    DescriptorPipeline white(o);
    white.fit(x);
    const torch::Tensor keep = torch::cat({torch::arange(0, 7), torch::arange(8, 500)});
    const torch::Tensor w = white.transform(x).index_select(0, keep);
    const torch::Tensor c = w.t().mm(w - w.mean(0)) / (w.size(0) - 1);
    CHECK((c - torch::eye(8)).abs().max().item<double>() < 1e-3);
    // Default: 128 → capped at the feature size; re-normalised rows.
    DescriptorPipeline def;
    def.fit(x);
    CHECK(def.outputDims() == 24);
    CHECK(def.transform(x)[0].norm().item<double>() == Approx(1.0));
    QTemporaryDir dir;
    white.save(dir.path().toStdString());
    const DescriptorPipeline again = DescriptorPipeline::load(dir.path().toStdString());
    CHECK(torch::equal(again.transform(x).nan_to_num(), white.transform(x).nan_to_num()));
    CHECK_THROWS_AS(white.transform(torch::zeros({2, 5})), UsageError);
}
