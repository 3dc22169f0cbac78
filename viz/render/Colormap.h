#pragma once
// Colormaps for tiles: perceptually uniform (viridis-like) for unsigned data, blue-white-red for signed data.
#include <QColor>
#include <QRgb>

#include <array>

namespace convscope {

class Colormap {
public:
    enum class Name { Viridis, Diverging, Gray };
    explicit Colormap(Name name);
    /// Colour of `t` in [0, 1] (clamped). For Diverging, 0.5 is the neutral midpoint.
    QRgb at(float t) const;
    Name name() const { return name_; }

private:
    Name name_;
    std::array<QRgb, 256> lut_{};
};

} // namespace convscope
