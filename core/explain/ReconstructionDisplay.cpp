#include "explain/ReconstructionDisplay.h"

#include "common/Error.h"

#include <torch/torch.h>

namespace convscope {

ReconstructionDisplay::Style ReconstructionDisplay::parse(const std::string &name)
{
    if (name == "auto")
        return Style::Auto;
    if (name == "rgb")
        return Style::Rgb;
    if (name == "signed")
        return Style::Signed;
    if (name == "magnitude")
        return Style::Magnitude;
    throw UsageError("unknown display '" + name + "': choose auto, rgb, signed or magnitude");
}

torch::Tensor ReconstructionDisplay::heat(const torch::Tensor &unit)
{
    const torch::Tensor t = unit.clamp(0, 1);
    return torch::stack({(t * 3).clamp(0, 1), (t * 3 - 1).clamp(0, 1), (t * 3 - 2).clamp(0, 1)});
}

torch::Tensor ReconstructionDisplay::render(const torch::Tensor &raw, Style style)
{
    const torch::Tensor map = raw.detach().to(torch::kFloat32);
    if (map.dim() == 2) {
        const float top = map.max().item<float>();
        return heat(top > 0 ? map / top : torch::zeros_like(map));
    }
    if (map.dim() != 3)
        throw UsageError("a reconstruction is C×H×W or H×W");
    if (style == Style::Auto)
        style = map.size(0) == 3 ? Style::Rgb : Style::Signed;
    switch (style) {
    case Style::Rgb: {
        const float top = map.abs().max().item<float>();
        torch::Tensor v = top > 0 ? map / top * 0.5f + 0.5f : torch::full_like(map, 0.5f);
        return v.size(0) == 3 ? v : v.select(0, 0).unsqueeze(0).expand({3, -1, -1}).contiguous();
    }
    case Style::Signed: {
        const torch::Tensor s = map.sum(0);
        const float top = s.abs().max().item<float>();
        const torch::Tensor t = top > 0 ? s / top : torch::zeros_like(s); // [-1, 1]
        const torch::Tensor pos = t.clamp_min(0), neg = (-t).clamp_min(0);
        // White at 0, towards red (0.70, 0.09, 0.17) for positive and blue (0.13, 0.40, 0.67) for negative.
        auto channel = [&](float red, float blue) { return 1 - pos * (1 - red) - neg * (1 - blue); };
        return torch::stack({channel(0.70f, 0.13f), channel(0.09f, 0.40f), channel(0.17f, 0.67f)});
    }
    case Style::Magnitude:
    case Style::Auto: {
        const torch::Tensor m = std::get<0>(map.abs().max(0));
        const float top = m.max().item<float>();
        return heat(top > 0 ? m / top : m);
    }
    }
    return map;
}

torch::Tensor ReconstructionDisplay::overlay(const torch::Tensor &image, const torch::Tensor &map, float opacity)
{
    torch::Tensor m = map.detach().to(torch::kFloat32).reshape({1, 1, map.size(-2), map.size(-1)});
    m = torch::upsample_bilinear2d(m, {image.size(1), image.size(2)}, false)[0][0];
    const float top = m.max().item<float>();
    m = top > 0 ? (m / top).clamp(0, 1) : torch::zeros_like(m);
    const torch::Tensor alpha = opacity * m.sqrt();
    return image * (1 - alpha) + heat(m) * alpha;
}

} // namespace convscope
