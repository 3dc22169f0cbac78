#include "scan/StoredFeatures.h"

#include "common/Error.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "scan/StoredScan.h"

#include <QFileInfo>

#include <algorithm>

namespace convscope {

StoredFeatures StoredFeatures::find(const std::string &project, const std::string &layerName,
                                    std::optional<FeaturePooling> pooling, Progress *progress)
{
    ProjectStore store(project);
    const auto newest = store.latestComplete();
    if (!newest)
        throw DataError("project '" + project + "' holds no complete scan; run `convscope scan` first");
    if (!QFileInfo::exists(QString::fromStdString(newest->modelPath)))
        throw IoError("the scanned model '" + newest->modelPath + "' is gone");
    auto model = Model::load(newest->modelPath);
    const LayerInfo &layer = model->layer(layerName);
    StoredFeatures found;
    found.layer = layer.path;
    found.pooling = pooling.value_or(defaultPooling(layer));
    const std::string feature = featureName(layer, found.pooling);
    // A complete scan of this model and dataset that kept the feature, newest first; else scan for it.
    bool have = false;
    for (const auto &s : store.scans())
        if (s.complete && s.modelSha256 == newest->modelSha256 && s.dataset == newest->dataset)
            for (const auto &f : s.features)
                if (f.name == feature && (!have || s.id > found.scan.id)) {
                    found.scan = s;
                    found.file = f.file;
                    have = true;
                }
    if (have)
        return found;
    StoredScan::Options so;
    so.project = project;
    so.scan.layers = {layer.path};
    so.scan.features = {layer.path};
    auto images = std::shared_ptr<const ImageSource>(ImageSource::open(newest->dataset));
    StoredScan scan(model, images, newest->dataset, so);
    while (scan.run(1)) {
        if (progress && progress->cancelled())
            throw CancelledError();
        if (progress)
            progress->report(scan.done(), scan.total(), "computing " + feature + " features");
    }
    found.scan = scan.info();
    for (const auto &f : found.scan.features)
        if (f.name == feature)
            found.file = f.file;
    if (found.file.empty())
        throw DataError("the features scan kept no '" + feature + "'");
    return found;
}

std::vector<StoredFeatures> StoredFeatures::kept(const ProjectStore &store, const ProjectStore::ScanInfo &newest,
                                                 const Model &model, const std::vector<std::string> &layers)
{
    auto wanted = [&](const std::string &layer) {
        return layers.empty() || std::any_of(layers.begin(), layers.end(), [&](const std::string &l) {
                   return l == layer || model.layer(layer).displayName == l;
               });
    };
    std::vector<StoredFeatures> out;
    for (const auto &s : store.scans()) {
        if (!s.complete || s.modelSha256 != newest.modelSha256 || s.dataset != newest.dataset)
            continue;
        for (const auto &f : s.features) {
            const std::string tail = f.name.size() > 4 ? f.name.substr(f.name.size() - 4) : "";
            const FeaturePooling pooling = tail == ":avg"   ? FeaturePooling::Average
                                           : tail == ":max" ? FeaturePooling::Max
                                                            : FeaturePooling::None;
            if (!wanted(f.layer) || std::any_of(out.begin(), out.end(), [&](const StoredFeatures &o) {
                    return o.layer == f.layer && o.pooling == pooling;
                }))
                continue;
            StoredFeatures found;
            found.scan = s;
            found.file = f.file;
            found.layer = f.layer;
            found.pooling = pooling;
            out.push_back(found);
        }
    }
    return out;
}

} // namespace convscope
