// Retrieval scores (mAP, precision@k) on a hand-computed case.
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

TEST_CASE("retrieval scores: mAP and precision@k on a hand-computed case", "[search]")
{
    // 1-D descriptors 0, 3, 1, 10 with labels 0, 0, 1, 1. Rankings (leave-one-out):
    //   q0: 1(l1) 3(l0) 10  -> AP 1/2     q1: 1(l1) 0(l0) 10 -> AP 1/2
    //   q2: 0 3 10(l1)      -> AP 1/3     q3: 3 1(l1) 0      -> AP 1/2
    const torch::Tensor x = torch::tensor({0.0f, 3.0f, 1.0f, 10.0f}).unsqueeze(1);
    RetrievalEvaluator::Options o;
    o.precisionAt = 10; // capped at the 3 other images
    const auto r = RetrievalEvaluator({0, 0, 1, 1}, o).evaluate(x);
    CHECK(r.map == Approx((0.5 + 0.5 + 1.0 / 3 + 0.5) / 4));
    CHECK(r.precisionAtK == Approx(1.0 / 3));
    CHECK(r.queries == 4);
    // Unlabelled images are left out; a NaN row too.
    const torch::Tensor y = torch::tensor({0.0f, 3.0f, 1.0f, 10.0f, 5.0f, NAN}).unsqueeze(1);
    CHECK(RetrievalEvaluator({0, 0, 1, 1, -1, 0}, o).evaluate(y).map == Approx(r.map));
}
