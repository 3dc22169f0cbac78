#include "model/ModelSidecar.h"

#include "common/Error.h"
#include "model/ModelSidecarJson.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace convscope {

const char *resizePolicyName(ResizePolicy policy)
{
    switch (policy) {
    case ResizePolicy::Stretch: return "stretch";
    case ResizePolicy::Pad: return "pad";
    case ResizePolicy::CenterCrop: break;
    }
    return "crop";
}

bool parseResizePolicy(const std::string &name, ResizePolicy &policy)
{
    for (ResizePolicy p : {ResizePolicy::Stretch, ResizePolicy::CenterCrop, ResizePolicy::Pad})
        if (name == resizePolicyName(p)) {
            policy = p;
            return true;
        }
    return false;
}

const char *channelOrderName(ChannelOrder order)
{
    return order == ChannelOrder::Bgr ? "bgr" : "rgb";
}

bool parseChannelOrder(const std::string &name, ChannelOrder &order)
{
    const QString n = QString::fromStdString(name).trimmed().toLower();
    if (n != "rgb" && n != "bgr")
        return false;
    order = n == "bgr" ? ChannelOrder::Bgr : ChannelOrder::Rgb;
    return true;
}

std::string ModelSidecar::findFor(const std::string &modelPath)
{
    QFileInfo model(QString::fromStdString(modelPath));
    const QString candidates[] = {model.dir().filePath(model.completeBaseName() + ".json"),
                                  model.filePath() + ".json"};
    for (const QString &c : candidates)
        if (QFileInfo(c).isFile())
            return c.toStdString();
    return {};
}

ModelSidecar ModelSidecar::defaults(int channels)
{
    ModelSidecar s;
    if (channels == 1) {
        s.input.width = s.input.height = 28;
        s.input.channels = 1;
        s.input.mean = {0.0f};
        s.input.std = {1.0f};
        s.input.resize = ResizePolicy::Stretch;
        s.notes.push_back("no sidecar: assuming 28×28 grayscale input with pixels in [0, 1]");
    } else {
        s.notes.push_back("no sidecar: assuming ImageNet preprocessing (resize 256, centre crop 224, "
                          "ImageNet mean/std)");
    }
    return s;
}

ModelSidecar ModelSidecar::load(const std::string &jsonPath, int channels)
{
    QFile f(QString::fromStdString(jsonPath));
    if (!f.open(QIODevice::ReadOnly))
        throw IoError("cannot read sidecar '" + jsonPath + "': " + f.errorString().toStdString());
    return ModelSidecarJson::parse(f.read(ModelSidecarJson::kMaxBytes + 1), channels, jsonPath);
}

} // namespace convscope
