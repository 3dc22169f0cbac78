#include "render/OverlayRenderer.h"

#include "render/Colormap.h"

#include <QPainter>

#include <torch/torch.h>

namespace convscope {

QImage OverlayRenderer::render(const QImage &input, const torch::Tensor &map, float opacity, int size)
{
    QSize target = input.size().scaled(size, size, Qt::KeepAspectRatio);
    if (target.isEmpty())
        target = QSize(size, size);
    QImage base = input.convertToFormat(QImage::Format_Grayscale8)
                      .scaled(target, Qt::IgnoreAspectRatio, Qt::FastTransformation)
                      .convertToFormat(QImage::Format_ARGB32);
    if (!map.defined() || map.dim() != 2)
        return base;
    torch::Tensor m = torch::nn::functional::interpolate(
                          map.to(torch::kFloat32).unsqueeze(0).unsqueeze(0),
                          torch::nn::functional::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{target.height(), target.width()})
                              .mode(torch::kBilinear)
                              .align_corners(false))[0][0]
                          .contiguous();
    const float lo = m.min().item<float>(), hi = m.max().item<float>();
    const float span = hi - lo > 1e-12f ? hi - lo : 1.0f;
    static const Colormap viridis(Colormap::Name::Viridis);
    QImage colour(target, QImage::Format_ARGB32);
    const float *data = m.data_ptr<float>();
    for (int y = 0; y < target.height(); ++y) {
        auto *line = reinterpret_cast<QRgb *>(colour.scanLine(y));
        for (int x = 0; x < target.width(); ++x)
            line[x] = viridis.at((data[y * target.width() + x] - lo) / span);
    }
    QPainter p(&base);
    p.setOpacity(opacity);
    p.drawImage(0, 0, colour);
    return base;
}

} // namespace convscope
