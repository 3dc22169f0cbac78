#include "map/Embedder.h"

#include "common/EnumNames.h"
#include "common/Error.h"

#include <algorithm>
#include <cctype>

namespace convscope {

namespace {

constexpr EnumName<Embedder::Method> kMethods[] = {
    {Embedder::Method::Tsne, "tsne"}, {Embedder::Method::Umap, "umap"}, {Embedder::Method::Tsne, "t-sne"}};

} // namespace

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
    return parseName(kMethods, name, "map method");
}

std::string Embedder::methodName(Method method)
{
    return nameOf(kMethods, method);
}

} // namespace convscope
