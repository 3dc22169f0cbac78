#include "map/Embedder.h"

#include "common/Error.h"

#include <algorithm>
#include <cctype>

namespace convscope {

namespace {

template <class Algorithm>
class Adapter : public Embedder {
public:
    template <class Options>
    Adapter(const torch::Tensor &x, const Options &options) : algorithm_(x, options)
    {
    }
    void run(int steps) override { algorithm_.run(steps); }
    bool done() const override { return algorithm_.done(); }
    int step() const override { return algorithm_.iteration(); }
    int steps() const override { return algorithm_.iterations(); }
    torch::Tensor embedding() const override { return algorithm_.embedding(); }

private:
    Algorithm algorithm_;
};

} // namespace

std::unique_ptr<Embedder> Embedder::create(const torch::Tensor &x, const Options &options)
{
    if (options.method == Method::Umap)
        return std::make_unique<Adapter<Umap>>(x, options.umap);
    return std::make_unique<Adapter<Tsne>>(x, options.tsne);
}

Embedder::Method Embedder::parseMethod(const std::string &name)
{
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "tsne" || lower == "t-sne")
        return Method::Tsne;
    if (lower == "umap")
        return Method::Umap;
    throw UsageError("unknown map method '" + name + "' (choose tsne or umap)");
}

std::string Embedder::methodName(Method method)
{
    return method == Method::Umap ? "umap" : "tsne";
}

} // namespace convscope
