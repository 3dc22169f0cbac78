#include "cli/ProbeCommands.h"

#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "common/Error.h"
#include "probe/LayerProbe.h"


#include <algorithm>
#include <cstdio>
#include <map>

namespace convscope {

namespace {

using namespace cli;

int cmdProbe(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption({"layers", "Comma-separated layers (default: every layer with stored features).", "list"});
    p.addOption({"classifier", "logreg (multinomial logistic regression), svm (one-vs-rest linear SVM, squared "
                               "hinge) or both (default).", "kind"});
    p.addOption({"per-class", "Train on N images per class (DeCAF's \"30 per class\"); the test split stays whole. "
                              "Accuracy is then the mean ± standard deviation over --repeats splits.", "n"});
    p.addOption({"repeats", "Splits drawn (seeds SEED, SEED+1, ...; default 5 with --per-class, else 1).", "n"});
    p.addOption({"seed", "Seed of the stratified split and the per-class draw (default 1).", "n"});
    p.addOption({"test-share", "Share of each class held out for testing when the dataset has no train/test split "
                               "of its own (default 0.25).", "x"});
    p.addOption({"stratified", "Split with the seed even when the dataset's names give a train/test split."});
    p.addOption({"descriptor", "Map layers: spoc (sum-pooled, default) or mac (max-pooled).", "kind"});
    p.addOption({"c", "Inverse regularisation strength C, as scikit-learn's (default 1).", "x"});
    p.addOption({"csv", "Also write the table as CSV.", "file"});
    p.addOption({"quiet", "No progress bar."});
    if (auto rc = parse(p, args, "Which layer classifies best: trains a linear classifier on each layer's stored "
                                 "features (fc outputs, pooled maps) on the training split of the dataset and reports "
                                 "its accuracy on the test split. Uses the dataset's own train/test split when its "
                                 "image names give one (train-*/t10k-* idx files, train/ and test/ folders), else a "
                                 "seeded stratified split.",
                        "PROJECT", 1, 1))
        return *rc;
    const std::string project = p.positionalArguments()[1].toStdString();
    LayerProbe::Options o;
    if (p.isSet("layers"))
        for (const QString &l : p.value("layers").split(',', Qt::SkipEmptyParts))
            o.layers.push_back(l.trimmed().toStdString());
    const std::string which = p.isSet("classifier") ? p.value("classifier").toStdString() : "both";
    if (which != "both")
        o.classifiers = {LinearClassifier::parseKind(which)};
    o.split.perClass = intOption(p, "per-class", 0, 1, 1000000);
    o.repeats = intOption(p, "repeats", 0, 1, 1000);
    o.split.seed = static_cast<std::uint64_t>(intOption(p, "seed", 1, 0, 2147483647));
    o.split.testFraction = realOption(p, "test-share", 0.25, 0.01, 0.99);
    o.split.ownSplit = !p.isSet("stratified");
    if (p.isSet("descriptor"))
        o.mapDescriptor = p.value("descriptor").toStdString();
    o.c = realOption(p, "c", 1.0, 1e-8, 1e8);

    LayerProbe probe(project, o);
    std::printf("split: %s\n", probe.splitDescription().c_str());
    std::fflush(stdout);
    {
        CliProgressBar bar("trainings", p.isSet("quiet"));
        while (!probe.run(&bar)) {
        }
    }
    // One line per layer, a column per classifier.
    std::vector<std::string> kinds;
    for (auto k : o.classifiers)
        kinds.push_back(LinearClassifier::kindName(k));
    std::vector<std::string> layers;
    std::map<std::pair<std::string, std::string>, const LayerProbe::Row *> cell;
    for (const auto &r : probe.rows()) {
        if (std::find(layers.begin(), layers.end(), r.layer) == layers.end())
            layers.push_back(r.layer);
        cell[{r.layer, r.classifier}] = &r;
    }
    const bool spread = o.repeats > 1 || o.split.perClass > 0;
    std::printf("%-26s %-5s %6s %7s %6s", "layer", "desc", "dims", "train", "test");
    for (const auto &k : kinds)
        std::printf("  %*s", spread ? 15 : 8, k.c_str());
    std::printf("\n");
    int failures = 0;
    QString csv = "layer,descriptor,dims,classifier,train_images,test_images,accuracy,spread,repeats,iterations,"
                  "converged,error\n";
    for (const auto &layer : layers) {
        const LayerProbe::Row *first = cell.at({layer, kinds.front()});
        std::printf("%-26s %-5s %6lld %7lld %6lld", layer.c_str(), first->descriptor.c_str(),
                    static_cast<long long>(first->dims), static_cast<long long>(first->trainImages),
                    static_cast<long long>(first->testImages));
        std::string errors;
        for (const auto &k : kinds) {
            const LayerProbe::Row &r = *cell.at({layer, k});
            if (!r.error.empty()) {
                std::printf("  %*s", spread ? 15 : 8, "-");
                errors = r.error;
            } else if (spread) {
                std::printf("  %7.2f ± %5.2f", 100 * r.accuracy, 100 * r.spread);
            } else {
                std::printf("  %7.2f%%", 100 * r.accuracy);
            }
            csv += QString("%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12\n")
                       .arg(q(r.layer), q(r.descriptor))
                       .arg(r.dims)
                       .arg(q(r.classifier))
                       .arg(r.trainImages)
                       .arg(r.testImages)
                       .arg(r.error.empty() ? QString::number(r.accuracy, 'f', 6) : QString())
                       .arg(r.error.empty() ? QString::number(r.spread, 'f', 6) : QString())
                       .arg(r.repeats)
                       .arg(r.iterations)
                       .arg(r.converged ? 1 : 0)
                       .arg(csvQuoted(r.error));
        }
        std::printf("%s\n", errors.empty() ? "" : ("  (" + errors + ")").c_str());
        failures += errors.empty() ? 0 : 1;
    }
    if (p.isSet("csv")) {
        writeText(p.value("csv"), csv);
    }
    if (failures > 0)
        std::fprintf(stderr, "%d layer%s could not be probed (see the table)\n", failures, failures > 1 ? "s" : "");
    return failures > 0 ? 1 : 0;
}

} // namespace

const std::vector<CliCommand> &ProbeCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"probe", "accuracy of a linear classifier per layer (logistic regression, linear SVM): which layer classifies "
                  "best", cmdProbe},
    };
    return commands;
}

} // namespace convscope
