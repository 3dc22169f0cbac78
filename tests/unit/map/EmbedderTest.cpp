// The Embedder runs t-SNE or UMAP in chunks.
#include "CatchTorch.h"

#include "map/Embedder.h"
#include "common/Error.h"
#include "MapTestData.h"
#include "common/NpyFile.h"
#include "TestPaths.h"
#include "map/Umap.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <ATen/Parallel.h>

using namespace convscope;
using namespace maptest;

TEST_CASE("Embedder runs either method in chunks", "[map]")
{
    std::vector<int> labels;
    const torch::Tensor x = blobs(600, 10, 4, labels);
    for (const char *name : {"tsne", "UMAP"}) {
        Embedder::Options o;
        o.method = Embedder::parseMethod(name);
        o.tsne.iterations = 300;
        o.umap.epochs = 100;
        auto e = Embedder::create(x, o);
        int chunks = 0;
        while (!e->done()) {
            e->run(25);
            ++chunks;
        }
        CHECK(e->step() == e->steps());
        CHECK(chunks == (e->steps() + 24) / 25);
        CHECK(knnAccuracy(e->embedding(), labels) > 0.95);
    }
    CHECK_THROWS_AS(Embedder::parseMethod("pca"), UsageError);
    // Names are case-insensitive, aliases accepted; a wrong one is answered with the written choices only.
    CHECK(Embedder::parseMethod("UMAP") == Embedder::Method::Umap);
    CHECK(Embedder::parseMethod("t-SNE") == Embedder::Method::Tsne);
    CHECK(Embedder::methodName(Embedder::Method::Tsne) == "tsne");
    CHECK_THROWS_WITH(Embedder::parseMethod("pca"), "unknown map method 'pca': choose tsne or umap");
}
