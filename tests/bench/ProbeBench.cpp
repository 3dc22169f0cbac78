// Linear probes: time to train one layer's logistic regression against scikit-learn's LogisticRegression (lbfgs)
// on the same standardised features and split.
//   ProbeBench [--passes N] [--layers a,b,...]
// Inputs: a scan of the demo model over Fashion-MNIST's 10,000 test images keeping the features of its layers from
// the first pooled map to the logits (made once with the CLI under build/bench-inputs/probe), split 75/25 stratified
// (seed 1) as `convscope probe` does. Per layer and pass, interleaved: Convscope's LinearClassifier (default options:
// it stops where scikit-learn's lbfgs stops when run to convergence) and tests/bench/probe_reference.py
// (scikit-learn's fit time as users run it — max_iter=100, its default, which stops early — and to convergence).
// Prints median seconds, iterations and test accuracy of each, and the ratios scikit-learn / Convscope (≥ 1: ours
// is at least as fast).
#include "BenchTimer.h"

#include "common/NpyFile.h"
#include "common/RuntimePolicy.h"
#include "data/ImageSource.h"
#include "probe/LinearClassifier.h"
#include "probe/ProbeSplit.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

using namespace convscope;

int main(int argc, char **argv)
{
    const int threads = RuntimePolicy::init(argv);
    int passes = 3;
    std::vector<std::string> layers{"features.pool1_avg", "features.relu2_avg", "features.relu4_avg", "classifier.fc1",
                                    "classifier.fc2", "classifier.fc3"};
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == "--passes")
            passes = std::max(1, std::atoi(argv[i + 1]));
        if (std::string(argv[i]) == "--layers") {
            layers.clear();
            for (const QString &l : QString(argv[i + 1]).split(',', Qt::SkipEmptyParts))
                layers.push_back(l.toStdString());
        }
    }
    const QString dir = QString(CONVSCOPE_BINARY_DIR) + "/bench-inputs/probe";
    const QString dataset = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    const QString scanDir = dir + "/project/scan-1";
    if (!QFileInfo::exists(scanDir + "/classifier.fc3.npy")) {
        QDir().mkpath(dir);
        QProcess cli;
        cli.setProcessChannelMode(QProcess::ForwardedChannels);
        cli.start(CONVSCOPE_CLI, {"scan", QString(CONVSCOPE_SOURCE_DIR) + "/resources/demo/fashion_cnn.pt", dataset,
                                  "--quiet", "--project", dir + "/project", "--features",
                                  "features.pool1:avg,features.relu2:avg,features.relu3:avg,features.relu4:avg,"
                                  "classifier.fc1,classifier.fc2,classifier.fc3"});
        if (!cli.waitForFinished(-1) || cli.exitCode() != 0) {
            std::fprintf(stderr, "ProbeBench: the demo scan failed\n");
            return 1;
        }
    }
    auto source = ImageSource::open(dataset.toStdString());
    std::vector<int> labels;
    for (std::int64_t i = 0; i < source->size(); ++i)
        labels.push_back(source->label(i));
    ProbeSplit::Options so;
    so.ownSplit = false;
    const ProbeSplit split = ProbeSplit::make(labels, {}, so);
    const torch::Tensor trainIdx = torch::tensor(split.train, torch::kLong), testIdx = torch::tensor(split.test, torch::kLong);
    const torch::Tensor y = torch::tensor(std::vector<std::int64_t>(labels.begin(), labels.end()), torch::kLong);

    std::printf("threads: %d, passes: %d, %zu training / %zu test images (%s)\n", threads, passes, split.train.size(),
                split.test.size(), split.how.c_str());
    std::printf("%-20s %5s | %9s %5s %6s | %9s %5s %6s | %9s %5s %6s | %8s %8s\n", "layer", "dims", "ours (s)", "iter",
                "acc", "sk100 (s)", "iter", "acc", "skconv (s)", "iter", "acc", "sk100/us", "skconv/us");
    for (const auto &layer : layers) {
        const torch::Tensor x = NpyFile::read((scanDir + "/" + QString::fromStdString(layer) + ".npy").toStdString());
        const QString tmp = dir + "/split-" + QString::fromStdString(layer);
        QDir().mkpath(tmp);
        NpyFile::write((tmp + "/x_train.npy").toStdString(), x.index_select(0, trainIdx));
        NpyFile::write((tmp + "/y_train.npy").toStdString(), y.index_select(0, trainIdx));
        NpyFile::write((tmp + "/x_test.npy").toStdString(), x.index_select(0, testIdx));
        NpyFile::write((tmp + "/y_test.npy").toStdString(), y.index_select(0, testIdx));
        std::vector<double> ours, sk100, skConv;
        int oursIter = 0, sk100Iter = 0, skConvIter = 0;
        double oursAcc = 0, sk100Acc = 0, skConvAcc = 0;
        for (int pass = 0; pass < passes; ++pass) {
            LinearClassifier c(LinearClassifier::Options{});
            const torch::Tensor xTrain = x.index_select(0, trainIdx), yTrain = y.index_select(0, trainIdx);
            ours.push_back(bench::seconds([&] { c.fit(xTrain, yTrain); }));
            oursIter = c.iterations();
            oursAcc = c.accuracy(x.index_select(0, testIdx), y.index_select(0, testIdx));
            QProcess py;
            py.start("/usr/bin/python3", {QString(CONVSCOPE_SOURCE_DIR) + "/tests/bench/probe_reference.py", tmp});
            if (!py.waitForFinished(-1) || py.exitCode() != 0) {
                std::fprintf(stderr, "ProbeBench: probe_reference.py failed: %s\n", py.readAllStandardError().constData());
                return 1;
            }
            const QJsonObject r = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
            sk100.push_back(r["default"].toObject()["seconds"].toDouble());
            skConv.push_back(r["converged"].toObject()["seconds"].toDouble());
            sk100Iter = r["default"].toObject()["iterations"].toInt();
            skConvIter = r["converged"].toObject()["iterations"].toInt();
            sk100Acc = r["default"].toObject()["accuracy"].toDouble();
            skConvAcc = r["converged"].toObject()["accuracy"].toDouble();
        }
        const double o = bench::median(ours), a = bench::median(sk100), b = bench::median(skConv);
        std::printf("%-20s %5lld | %9.2f %5d %6.2f | %9.2f %5d %6.2f | %9.2f %5d %6.2f | %8.2f %8.2f\n", layer.c_str(),
                    static_cast<long long>(x.size(1)), o, oursIter, 100 * oursAcc, a, sk100Iter, 100 * sk100Acc, b,
                    skConvIter, 100 * skConvAcc, a / o, b / o);
        std::fflush(stdout);
    }
    return 0;
}
