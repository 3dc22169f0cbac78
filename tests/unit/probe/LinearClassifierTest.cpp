// The linear probes against scikit-learn on the same features and split (tests/fixtures/make_probe_reference.py:
// Fashion-MNIST pixels and scaled PCA components): the same optimum (objective no worse than scikit-learn's
// solution's), the same test predictions nearly everywhere and accuracy within 0.5 points.
#include "CatchTorch.h"

#include "common/Error.h"
#include "common/NpyFile.h"
#include "probe/LinearClassifier.h"
#include "probe/ProbeSplit.h"
#include "TestPaths.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <map>
#include <set>

using namespace convscope;

namespace {

QJsonObject reference()
{
    QFile f(QString::fromStdString(testpaths::fixtures() + "/probe/reference.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    return QJsonDocument::fromJson(f.readAll()).object();
}

} // namespace

TEST_CASE("linear probes reach scikit-learn's optimum, predictions and accuracy", "[linear-probe]")
{
    const QJsonObject ref = reference();
    for (const std::string set : {"pixels", "pca48"}) {
        const std::string dir = testpaths::fixtures() + "/probe/" + set;
        const torch::Tensor x = NpyFile::read(dir + "/x.npy");
        const torch::Tensor y = NpyFile::read(dir + "/y.npy").to(torch::kLong);
        const torch::Tensor train = NpyFile::read(dir + "/train.npy").to(torch::kLong);
        const torch::Tensor test = NpyFile::read(dir + "/test.npy").to(torch::kLong);
        for (auto kind : {LinearClassifier::Kind::LogisticRegression, LinearClassifier::Kind::LinearSvm}) {
            const std::string name = LinearClassifier::kindName(kind);
            INFO(set << " " << name);
            const QJsonObject entry = ref["sets"].toObject()[QString::fromStdString(set)].toObject();
            const QJsonObject expected = entry[QString::fromStdString(name)].toObject();
            LinearClassifier::Options o;
            o.kind = kind;
            o.c = entry["c"].toDouble();
            o.maxIterations = 2000;
            LinearClassifier c(o);
            c.fit(x.index_select(0, train), y.index_select(0, train));
            CHECK(c.converged());
            CHECK(c.classes() == 10);
            // Strictly convex: scikit-learn's solution cannot be better than ours beyond its own tolerance.
            const double sklearnObjective = expected["objective"].toDouble();
            INFO("objective " << c.objective() << " vs scikit-learn " << sklearnObjective << " after "
                              << c.iterations() << " iterations");
            CHECK(c.objective() <= sklearnObjective * (1 + 1e-4));
            const double accuracy = c.accuracy(x.index_select(0, test), y.index_select(0, test));
            CHECK(std::abs(accuracy - expected["accuracy"].toDouble()) <= 0.005);
            const torch::Tensor theirs = NpyFile::read(dir + "/" + name + "_pred.npy").to(torch::kLong);
            const double same = c.predict(x.index_select(0, test)).eq(theirs).to(torch::kDouble).mean().item<double>();
            CHECK(same >= 0.98); // (liblinear's SVM penalises its intercept a little)
            CHECK(accuracy > 0.7); // real classes, learnt
        }
    }
}

TEST_CASE("a linear probe runs in chunks and refuses bad features with a clear message", "[linear-probe]")
{
    const std::string dir = testpaths::fixtures() + "/probe/pca48";
    const torch::Tensor x = NpyFile::read(dir + "/x.npy").slice(0, 0, 600);
    const torch::Tensor y = NpyFile::read(dir + "/y.npy").to(torch::kLong).slice(0, 0, 600);
    LinearClassifier::Options o;
    LinearClassifier chunked(o), whole(o);
    chunked.init(x, y);
    int chunks = 0;
    while (!chunked.run(3))
        ++chunks;
    CHECK(chunks >= 2);
    whole.fit(x, y);
    CHECK(chunked.iterations() == whole.iterations());
    CHECK(torch::equal(chunked.predict(x), whole.predict(x)));

    torch::Tensor bad = x.clone();
    bad[5][3] = std::numeric_limits<float>::quiet_NaN();
    LinearClassifier c(o);
    CHECK_THROWS_AS(c.init(bad, y), DataError);
    CHECK_THROWS_AS(c.init(x, torch::zeros({600}, torch::kLong)), DataError); // one class
    CHECK_THROWS_AS(c.init(x, y.slice(0, 0, 10)), DataError);                 // sizes
    CHECK_THROWS_AS(LinearClassifier::parseKind("forest"), UsageError);
    // A constant feature is no trouble (standardisation leaves it at zero).
    LinearClassifier d(o);
    d.fit(torch::cat({x, torch::full({600, 1}, 7.0f)}, 1), y);
    CHECK(d.converged());
}

TEST_CASE("probe splits: stratified and seeded, the dataset's own when names give one, N per class", "[linear-probe]")
{
    std::vector<int> labels;
    std::vector<std::string> names;
    for (int i = 0; i < 400; ++i) {
        labels.push_back(i % 4 == 3 && i > 200 ? -1 : i % 4);
        names.push_back((i < 300 ? "train-images-idx3-ubyte.gz#" : "t10k-images-idx3-ubyte.gz#") + std::to_string(i));
    }
    ProbeSplit::Options o;
    const ProbeSplit own = ProbeSplit::make(labels, names, o);
    CHECK(own.how == "the dataset's own");
    for (auto i : own.train)
        CHECK(i < 300);
    for (auto i : own.test)
        CHECK(i >= 300);
    std::set<std::int64_t> all(own.train.begin(), own.train.end());
    all.insert(own.test.begin(), own.test.end());
    CHECK(all.size() == own.train.size() + own.test.size()); // disjoint
    for (auto i : all)
        CHECK(labels[static_cast<size_t>(i)] >= 0);

    o.ownSplit = false;
    const ProbeSplit a = ProbeSplit::make(labels, names, o), b = ProbeSplit::make(labels, names, o);
    CHECK(a.train == b.train);
    o.seed = 2;
    const ProbeSplit c = ProbeSplit::make(labels, names, o);
    CHECK(a.train != c.train);
    std::map<int, int> testPerClass, perClass;
    for (auto i : a.test)
        ++testPerClass[labels[static_cast<size_t>(i)]];
    for (int l : labels)
        if (l >= 0)
            ++perClass[l];
    for (auto [label, count] : perClass)
        CHECK(std::abs(testPerClass[label] - 0.25 * count) <= 1.0);

    o.perClass = 7;
    const ProbeSplit few = ProbeSplit::make(labels, names, o);
    std::map<int, int> trainPerClass;
    for (auto i : few.train)
        ++trainPerClass[labels[static_cast<size_t>(i)]];
    for (auto [label, count] : trainPerClass)
        CHECK(count == 7);
    CHECK(few.test == c.test);

    CHECK(ProbeSplit::partOf("train/cat/1.jpg") == 0);
    CHECK(ProbeSplit::partOf("Validation/dog/2.png") == 1);
    CHECK(ProbeSplit::partOf("cat/train.jpg") == -1);
    CHECK_THROWS_AS(ProbeSplit::make(std::vector<int>(10, -1), {}, ProbeSplit::Options{}), DataError);
}
