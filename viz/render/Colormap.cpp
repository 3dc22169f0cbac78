#include "render/Colormap.h"

#include <algorithm>
#include <vector>

namespace convscope {

namespace {

// Anchor colours sampled along the maps; the LUT interpolates linearly between them.
const std::vector<QRgb> viridisStops = {0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e,
                                        0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725};
const std::vector<QRgb> divergingStops = {0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7,
                                          0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b};

QRgb lerp(QRgb a, QRgb b, float t)
{
    auto mix = [t](int x, int y) { return static_cast<int>(x + (y - x) * t + 0.5f); };
    return qRgb(mix(qRed(a), qRed(b)), mix(qGreen(a), qGreen(b)), mix(qBlue(a), qBlue(b)));
}

} // namespace

Colormap::Colormap(Name name) : name_(name)
{
    if (name == Name::Gray) {
        for (int i = 0; i < 256; ++i)
            lut_[i] = qRgb(i, i, i);
        return;
    }
    const auto &stops = name == Name::Viridis ? viridisStops : divergingStops;
    for (int i = 0; i < 256; ++i) {
        const float x = i / 255.0f * (stops.size() - 1);
        const size_t k = std::min(static_cast<size_t>(x), stops.size() - 2);
        lut_[i] = lerp(stops[k], stops[k + 1], x - k);
    }
}

QRgb Colormap::at(float t) const
{
    const int i = static_cast<int>(std::clamp(t, 0.0f, 1.0f) * 255.0f + 0.5f);
    return lut_[i];
}

} // namespace convscope
