#include "cli/ReconstructCommands.h"

#include "cli/CliProgressBar.h"
#include "cli/CliSupport.h"
#include "common/Error.h"
#include "data/ImageReference.h"
#include "common/NpyFile.h"
#include "scan/PatchExtractor.h"
#include "data/Preprocessor.h"
#include "explain/ReconstructionDisplay.h"
#include "explain/Reconstructor.h"
#include "explain/SanityCheck.h"

#include <QFile>
#include <QFileInfo>
#include <QTextStream>

#include <cstdio>

namespace convscope {

namespace {

using namespace cli;

void printUncovered(const Reconstructor &rec, BackpropRule rule, int layer)
{
    const auto notes = rec.uncovered(rule, layer);
    if (notes.empty())
        return;
    std::string list;
    for (const auto &n : notes)
        list += (list.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "note: %s changes only ReLU, ReLU6/Hardtanh and LeakyReLU; these keep their ordinary "
                         "gradient: %s\n", backpropRuleLabel(rule), list.c_str());
}

QCommandLineOption displayOption()
{
    return {"display", "How to draw signed maps: auto (rgb for colour inputs, signed otherwise), rgb (grey = 0), "
                       "signed (blue-white-red) or magnitude (max |v| over channels).", "style"};
}

ReconstructionDisplay::Style displayStyle(const QCommandLineParser &p)
{
    return p.isSet("display") ? ReconstructionDisplay::parse(p.value("display").toStdString())
                              : ReconstructionDisplay::Style::Auto;
}

bool wantsNpy(const QString &path) { return QFileInfo(path).suffix().toLower() == "npy"; }

std::string valueText(float v)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", static_cast<double>(v));
    return text;
}

int cmdReconstruct(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"layer", "Layer (path, friendly name or index from `convscope info`).", "layer"});
    p.addOption({"unit", "Unit (channel) of the layer.", "c"});
    p.addOption({"at", "Position y,x in the layer's map (default: the unit's strongest position).", "y,x"});
    p.addOption({"method", "gradient, deconvnet (default) or guided.", "method"});
    p.addOption({"crop", "Crop the image and the projection to the unit's receptive field."});
    p.addOption(displayOption());
    p.addOption({"width", "Image width in pixels.", "px"});
    p.addOption({{"o", "output"}, "Output .png/.svg (image | projection) or .npy (raw C×H×W gradient).", "file"});
    if (auto rc = parse(p, args, "Projects one unit of a layer back to the input (deconvnet, guided backprop or the "
                                 "plain gradient) for an image (a file or DATASET#INDEX).",
                        "MODEL IMAGE --layer L --unit C -o FILE", 2, 2))
        return *rc;
    if (!p.isSet("layer") || !p.isSet("unit") || !p.isSet("o"))
        throw UsageError("--layer, --unit and -o are required");
    const QStringList pos = p.positionalArguments();
    auto model = loadModel(p, pos[1]);
    const LayerInfo &layer = model->layer(p.value("layer").toStdString());
    UnitTarget target{intOption(p, "unit", 0, 0, 1 << 20), -1, -1};
    if (p.isSet("at")) {
        const QStringList yx = p.value("at").split(',');
        bool ok1 = false, ok2 = false;
        if (yx.size() == 2)
            target.y = yx[0].toInt(&ok1), target.x = yx[1].toInt(&ok2);
        if (!ok1 || !ok2 || target.y < 0 || target.x < 0)
            throw UsageError("--at must be a position y,x like 3,4");
    }
    const BackpropRule rule = parseBackpropRule(p.isSet("method") ? p.value("method").toStdString() : "deconvnet");
    const ImageReference ref = ImageReference::load(pos[2].toStdString());
    const Preprocessor pre(model->input());
    const cv::Mat fitted = pre.fit(ref.image);
    Reconstructor rec(model);
    printUncovered(rec, rule, layer.index);
    const UnitReconstruction r = rec.unit(pre.normalise(fitted), layer.index, target, rule);
    const QString out = p.value("o");
    if (wantsNpy(out)) {
        NpyFile::write(out.toStdString(), r.map);
    } else {
        TileSet set;
        set.kind = TileValues::Color;
        torch::Tensor image = Preprocessor::rgb(fitted);
        torch::Tensor recon = ReconstructionDisplay::render(r.map, displayStyle(p));
        if (p.isSet("crop")) {
            const auto rect = layer.field.at(r.y, r.x);
            image = PatchExtractor::cropOf(image, rect);
            recon = PatchExtractor::cropOf(recon, rect);
        }
        set.values = torch::stack({image, recon});
        set.captions = {ref.name, std::string(backpropRuleName(rule)) + " · " + valueText(r.value)};
        set.title = layer.path + " unit " + std::to_string(target.channel) + " @" + std::to_string(r.y) + "," +
                    std::to_string(r.x) + " = " + valueText(r.value) + " — " + backpropRuleLabel(rule);
        TileGridRenderer(gridOptions(p)).write(set, out);
    }
    std::printf("wrote %s (%s of %s unit %d at %d,%d; activation %s)\n", out.toLocal8Bit().constData(),
                backpropRuleName(rule), layer.path.c_str(), target.channel, r.y, r.x, valueText(r.value).c_str());
    return 0;
}

enum class ClassMethod { Gradient, Guided, Deconvnet, GradCam, GuidedGradCam };

ClassMethod parseClassMethod(const QString &name)
{
    if (name == "gradient")
        return ClassMethod::Gradient;
    if (name == "guided")
        return ClassMethod::Guided;
    if (name == "deconvnet")
        return ClassMethod::Deconvnet;
    if (name == "gradcam" || name == "grad-cam")
        return ClassMethod::GradCam;
    if (name == "guided-gradcam" || name == "guided-grad-cam")
        return ClassMethod::GuidedGradCam;
    throw UsageError("unknown method '" + name.toStdString() +
                     "': choose gradient, guided, deconvnet, gradcam or guided-gradcam");
}

int cmdSaliency(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"class", "Class index to explain (default: the predicted class).", "k"});
    p.addOption({"top", "Explain the top N predicted classes instead (1-20).", "n"});
    p.addOption({"method", "gradient, guided, deconvnet, gradcam (default) or guided-gradcam.", "method"});
    p.addOption({"layer", "Grad-CAM layer (default: the last convolutional map).", "layer"});
    p.addOption({"opacity", "Grad-CAM overlay opacity, 0-1 (default 0.6).", "a"});
    p.addOption(displayOption());
    p.addOption({"width", "Image width in pixels.", "px"});
    p.addOption({{"o", "output"}, "Output .png/.svg (image | one map per class) or .npy (raw maps, one per class).",
                 "file"});
    if (auto rc = parse(p, args, "Explains a class score of an image (a file or DATASET#INDEX): its saliency (the "
                                 "gradient, guided backprop or deconvnet of the class logit), Grad-CAM or guided "
                                 "Grad-CAM.",
                        "MODEL IMAGE -o FILE", 2, 2))
        return *rc;
    if (!p.isSet("o"))
        throw UsageError("-o is required");
    if (p.isSet("class") && p.isSet("top"))
        throw UsageError("--class and --top exclude each other");
    const QStringList pos = p.positionalArguments();
    auto model = loadModel(p, pos[1]);
    if (model->numClasses() <= 0)
        throw UnsupportedModelError("the model's output is not a vector of class scores");
    const ClassMethod method = parseClassMethod(p.isSet("method") ? p.value("method") : "gradcam");
    const ImageReference ref = ImageReference::load(pos[2].toStdString());
    const Preprocessor pre(model->input());
    const cv::Mat fitted = pre.fit(ref.image);
    const torch::Tensor input = pre.normalise(fitted).unsqueeze(0);
    const auto predictions = model->predict(input, std::max(1, std::min(model->numClasses(), 20))).at(0);
    std::vector<int> classes;
    if (p.isSet("class"))
        classes.push_back(intOption(p, "class", 0, 0, model->numClasses() - 1));
    else
        for (int i = 0; i < intOption(p, "top", 1, 1, 20) && i < static_cast<int>(predictions.size()); ++i)
            classes.push_back(predictions[static_cast<size_t>(i)].classIndex);
    Reconstructor rec(model);
    const bool cam = method == ClassMethod::GradCam || method == ClassMethod::GuidedGradCam;
    int camLayer = -1;
    if (cam) {
        camLayer = p.isSet("layer") ? model->layer(p.value("layer").toStdString()).index : rec.defaultCamLayer();
        if (camLayer < 0)
            throw UnsupportedModelError("the model has no layer with spatial maps for Grad-CAM");
    }
    const torch::Tensor batch = input.expand({static_cast<std::int64_t>(classes.size()), -1, -1, -1}).contiguous();
    torch::Tensor maps;
    switch (method) {
    case ClassMethod::Gradient: maps = rec.classSaliency(batch, classes, BackpropRule::Gradient); break;
    case ClassMethod::Guided: maps = rec.classSaliency(batch, classes, BackpropRule::Guided); break;
    case ClassMethod::Deconvnet: maps = rec.classSaliency(batch, classes, BackpropRule::Deconvnet); break;
    case ClassMethod::GradCam: maps = rec.gradCam(batch, classes, camLayer).upsampled; break;
    case ClassMethod::GuidedGradCam: maps = rec.guidedGradCam(batch, classes, camLayer); break;
    }
    if (method == ClassMethod::Guided || method == ClassMethod::GuidedGradCam)
        printUncovered(rec, BackpropRule::Guided, -1);
    if (method == ClassMethod::Deconvnet)
        printUncovered(rec, BackpropRule::Deconvnet, -1);
    const QString out = p.value("o");
    const torch::Tensor probabilities = torch::softmax(model->forward(input), 1)[0];
    if (wantsNpy(out)) {
        NpyFile::write(out.toStdString(), maps);
    } else {
        TileSet set;
        set.kind = TileValues::Color;
        const torch::Tensor image = Preprocessor::rgb(fitted);
        std::vector<torch::Tensor> tiles{image};
        set.captions.push_back(ref.name);
        const float opacity = static_cast<float>(realOption(p, "opacity", 0.6, 0, 1));
        for (size_t i = 0; i < classes.size(); ++i) {
            const torch::Tensor m = maps[static_cast<std::int64_t>(i)];
            tiles.push_back(method == ClassMethod::GradCam ? ReconstructionDisplay::overlay(image, m, opacity)
                                                           : ReconstructionDisplay::render(m, displayStyle(p)));
            set.captions.push_back(model->label(classes[i]) + " · p=" +
                                   valueText(probabilities[classes[i]].item<float>()));
        }
        set.values = torch::stack(tiles);
        std::string title = p.value("method").isEmpty() ? "gradcam" : p.value("method").toStdString();
        if (cam)
            title += " at " + model->layers().at(static_cast<size_t>(camLayer)).path;
        set.title = title + " — " + ref.name;
        TileGridRenderer(gridOptions(p)).write(set, out);
    }
    std::string list;
    for (int c : classes)
        list += (list.empty() ? "" : ", ") + model->label(c) + " (" +
                valueText(probabilities[c].item<float>()) + ")";
    std::printf("wrote %s (%s)\n", out.toLocal8Bit().constData(), list.c_str());
    return 0;
}

int cmdSanity(const QStringList &args)
{
    QCommandLineParser p;
    p.addOption(sidecarOption());
    p.addOption({"class", "Class to explain (default: the predicted class).", "k"});
    p.addOption({"methods", "Comma-separated: gradient, guided, deconvnet, gradcam, guided-gradcam "
                            "(default: gradient,guided,gradcam,guided-gradcam).", "list"});
    p.addOption({"layer", "Grad-CAM layer (default: the last convolutional map).", "layer"});
    p.addOption({"steps", "Re-initialise at most this many layers (default: all).", "n"});
    p.addOption({"seed", "Seed of the re-initialisation (default 1).", "n"});
    p.addOption({"csv", "Also write the rank correlations as CSV (method, step, layer, rho).", "file"});
    p.addOption({"width", "Image width in pixels.", "px"});
    p.addOption({{"o", "output"}, "Output .png or .svg figure.", "file"});
    if (auto rc = parse(p, args, "Sanity check for saliency maps (Adebayo et al. 2018): re-initialises the model's "
                                 "layers from the top, one more per step, and shows how much each method's map of "
                                 "the image changes (Spearman rank correlation with the original map).",
                        "MODEL IMAGE -o FILE", 2, 2))
        return *rc;
    if (!p.isSet("o"))
        throw UsageError("-o is required");
    const QStringList pos = p.positionalArguments();
    auto model = loadModel(p, pos[1]);
    SanityCheck::Options o;
    if (p.isSet("methods")) {
        o.methods.clear();
        for (const QString &m : p.value("methods").split(',', Qt::SkipEmptyParts)) {
            switch (parseClassMethod(m.trimmed())) {
            case ClassMethod::Gradient: o.methods.push_back(SanityCheck::Method::Gradient); break;
            case ClassMethod::Guided: o.methods.push_back(SanityCheck::Method::Guided); break;
            case ClassMethod::Deconvnet: o.methods.push_back(SanityCheck::Method::Deconvnet); break;
            case ClassMethod::GradCam: o.methods.push_back(SanityCheck::Method::GradCam); break;
            case ClassMethod::GuidedGradCam: o.methods.push_back(SanityCheck::Method::GuidedGradCam); break;
            }
        }
    }
    if (p.isSet("class"))
        o.classIndex = intOption(p, "class", 0, 0, std::max(0, model->numClasses() - 1));
    if (p.isSet("layer"))
        o.camLayer = model->layer(p.value("layer").toStdString()).index;
    o.maxSteps = intOption(p, "steps", 0, 1, 100000);
    o.seed = static_cast<std::uint64_t>(intOption(p, "seed", 1, 0, 1 << 30));
    const ImageReference ref = ImageReference::load(pos[2].toStdString());
    const Preprocessor pre(model->input());
    SanityCheck check(model, pre.tensor(ref.image), o);
    CliProgressBar bar("steps");
    while (!check.done()) {
        check.run(1);
        bar.report(static_cast<std::int64_t>(check.results().size()), check.steps(), "re-initialising layers");
    }
    bar.finish();
    const QString out = p.value("o");
    TileGridRenderer(gridOptions(p)).write(check.figure(), out);
    if (p.isSet("csv")) {
        QFile f(p.value("csv"));
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            throw IoError("cannot write '" + p.value("csv").toStdString() + "': " + f.errorString().toStdString());
        QTextStream s(&f);
        s << "method,step,layer,rho\n";
        for (size_t k = 0; k < o.methods.size(); ++k)
            for (size_t i = 0; i < check.results().size(); ++i)
                s << SanityCheck::methodName(o.methods[k]) << ',' << i << ',' << q(check.results()[i].layer) << ','
                  << QString::number(check.results()[i].correlation[k], 'f', 6) << '\n';
    }
    std::printf("wrote %s (%d steps, class %s)\n", out.toLocal8Bit().constData(), check.steps(),
                model->label(check.classIndex()).c_str());
    for (size_t k = 0; k < o.methods.size(); ++k)
        std::printf("  %-15s rho after all steps: %.3f\n", SanityCheck::methodName(o.methods[k]),
                    check.results().back().correlation[k]);
    return 0;
}

} // namespace

const std::vector<CliCommand> &ReconstructCommands::all()
{
    static const std::vector<CliCommand> commands = {
        {"reconstruct", "a unit projected back to the input: gradient, deconvnet or guided backprop", cmdReconstruct},
        {"saliency", "class saliency, Grad-CAM and guided Grad-CAM for an image", cmdSaliency},
        {"sanity", "sanity check of saliency methods by cascading layer re-initialisation (figure, CSV)", cmdSanity},
    };
    return commands;
}

} // namespace convscope
