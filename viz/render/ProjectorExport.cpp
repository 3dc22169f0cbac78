#include "render/ProjectorExport.h"

#include "common/Error.h"

#include <QDir>
#include <QFile>
#include <QPainter>
#include <QTextStream>

#include <cmath>

namespace convscope {

namespace {

void openForWriting(QFile &f)
{
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
        throw IoError("cannot write '" + f.fileName().toStdString() + "': " + f.errorString().toStdString());
}

QString clean(const std::string &s)
{
    return QString::fromStdString(s).replace('\t', ' ').replace('\n', ' ');
}

} // namespace

int ProjectorExport::write(const QString &dir, const std::string &tensorName, const torch::Tensor &featuresIn,
                           const torch::Tensor &coords, const std::vector<Item> &items,
                           const std::function<QImage(std::int64_t)> &thumbnail, int cell)
{
    if (!QDir().mkpath(dir))
        throw IoError("cannot create '" + dir.toStdString() + "'");
    const torch::Tensor features = featuresIn.to(torch::kFloat32).contiguous();
    const std::int64_t n = features.size(0), d = features.size(1);
    {
        QFile f(dir + "/tensors.tsv");
        openForWriting(f);
        QTextStream s(&f);
        const float *v = features.data_ptr<float>();
        for (std::int64_t i = 0; i < n; ++i) {
            for (std::int64_t j = 0; j < d; ++j)
                s << (j ? "\t" : "") << v[i * d + j];
            s << '\n';
        }
    }
    {
        QFile f(dir + "/metadata.tsv");
        openForWriting(f);
        QTextStream s(&f);
        s << "index\tname\tlabel\tprediction" << (coords.defined() ? "\tmap_x\tmap_y" : "") << '\n';
        for (std::int64_t i = 0; i < n; ++i) {
            const Item &it = items[static_cast<size_t>(i)];
            s << it.index << '\t' << clean(it.name) << '\t' << clean(it.label) << '\t' << clean(it.prediction);
            if (coords.defined())
                s << '\t' << coords[i][0].item<float>() << '\t' << coords[i][1].item<float>();
            s << '\n';
        }
    }
    // Sprite: a square grid of cells, at most 8192 px a side (the projector's limit).
    const int side = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
    cell = std::max(1, std::min(cell, 8192 / std::max(1, side)));
    QImage sprite(side * cell, side * cell, QImage::Format_RGB32);
    sprite.fill(Qt::black);
    {
        QPainter p(&sprite);
        p.setRenderHint(QPainter::SmoothPixmapTransform);
        for (std::int64_t i = 0; i < n; ++i)
            p.drawImage(QRect(static_cast<int>(i % side) * cell, static_cast<int>(i / side) * cell, cell, cell),
                        thumbnail(i));
    }
    if (!sprite.save(dir + "/sprite.png"))
        throw IoError("cannot write '" + (dir + "/sprite.png").toStdString() + "'");
    const QString name = clean(tensorName);
    {
        QFile f(dir + "/projector_config.pbtxt");
        openForWriting(f);
        QTextStream s(&f);
        s << "embeddings {\n  tensor_name: \"" << name << "\"\n  tensor_shape: " << n << "\n  tensor_shape: " << d
          << "\n  tensor_path: \"tensors.tsv\"\n  metadata_path: \"metadata.tsv\"\n  sprite {\n"
          << "    image_path: \"sprite.png\"\n    single_image_dim: " << cell << "\n    single_image_dim: " << cell
          << "\n  }\n}\n";
    }
    {
        QFile f(dir + "/projector_config.json");
        openForWriting(f);
        QTextStream s(&f);
        s << "{\n  \"embeddings\": [{\n    \"tensorName\": \"" << name << "\",\n    \"tensorShape\": [" << n << ", " << d
          << "],\n    \"tensorPath\": \"tensors.tsv\",\n    \"metadataPath\": \"metadata.tsv\",\n"
          << "    \"sprite\": {\"imagePath\": \"sprite.png\", \"singleImageDim\": [" << cell << ", " << cell
          << "]}\n  }]\n}\n";
    }
    return cell;
}

} // namespace convscope
