#include "explain/FourierImage.h"

#include "common/Error.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace convscope {

namespace {

torch::Tensor colourMatrix(const std::array<float, 9> &values)
{
    return torch::tensor(std::vector<float>(values.begin(), values.end())).reshape({3, 3});
}

std::array<float, 9> toArray(const torch::Tensor &m)
{
    const torch::Tensor c = m.to(torch::kFloat32).contiguous();
    std::array<float, 9> a{};
    std::copy(c.data_ptr<float>(), c.data_ptr<float>() + 9, a.begin());
    return a;
}

} // namespace

FourierImage::FourierImage(const Options &options, std::uint64_t seed) : options_(options)
{
    if (options.channels != 1 && options.channels != 3)
        throw UsageError("images can be synthesised with 1 or 3 channels, not " + std::to_string(options.channels));
    if (options.batch < 1 || options.height < 2 || options.width < 2 || options.height > 4096 ||
        options.width > 4096)
        throw UsageError("cannot synthesise " + std::to_string(options.batch) + " images of " +
                         std::to_string(options.width) + "×" + std::to_string(options.height) + " pixels");
    const int64_t h = options.height, w = options.width, wf = w / 2 + 1;
    const double m = std::max(h, w);
    const torch::Tensor fy = torch::fft::fftfreq(h, torch::kFloat64).unsqueeze(1);
    const torch::Tensor fx = torch::fft::rfftfreq(w, torch::kFloat64).unsqueeze(0);
    const torch::Tensor f = (fy * fy + fx * fx).sqrt().clamp_min(1.0 / m);
    weights_ = (1.0 / (m * f)).pow(options.decay).to(torch::kFloat32).contiguous();
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    spectrum_ = at::normal(0.0, options.initialSd, {options.batch, options.channels, h, wf, 2}, generator)
                    .to(torch::kFloat32)
                    .requires_grad_(true);
    colour_ = colourMatrix(options.colour);
}

torch::Tensor FourierImage::images() const
{
    const torch::Tensor complex = torch::view_as_complex(spectrum_);
    torch::Tensor spatial =
        torch::fft::irfft2(complex * weights_, std::vector<int64_t>{options_.height, options_.width}, {-2, -1},
                           "forward") *
        options_.amplitude;
    if (options_.channels == 3)
        spatial = torch::einsum("ij,bjhw->bihw", {colour_, spatial});
    return torch::sigmoid(spatial);
}

std::array<float, 9> FourierImage::naturalColourCorrelation()
{
    // `make_synthesis_reference.py --colour` (tests/fixtures) prints these from five scikit-image photos.
    return {0.0299f, -0.3125f, 0.6375f, -0.0809f, 0.0876f, 0.5830f, 0.0558f, 0.2942f, 0.5037f};
}

std::array<float, 9> FourierImage::colourCorrelationOf(const torch::Tensor &pixels)
{
    if (pixels.dim() != 2 || pixels.size(1) != 3 || pixels.size(0) < 2)
        throw DataError("the colour correlation needs at least 2 RGB pixels");
    const torch::Tensor x = pixels.to(torch::kFloat64);
    const torch::Tensor centred = x - x.mean(0, true);
    const torch::Tensor cov = centred.t().mm(centred) / static_cast<double>(x.size(0) - 1);
    const auto [values, vectors] = torch::linalg::eigh(cov, "L");
    torch::Tensor root = vectors * values.clamp_min(0).sqrt().unsqueeze(0);
    root = root * torch::where(root.sum(0) < 0, -1.0, 1.0).unsqueeze(0); // each column's sign: a positive sum
    const double largest = root.norm(2, {0}).max().item<double>();
    if (!(largest > 0) || !std::isfinite(largest))
        throw DataError("the dataset's pixels have no colour variation to decorrelate");
    return toArray(root / largest);
}

} // namespace convscope
