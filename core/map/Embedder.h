#pragma once
// A 2-D (or 3-D) embedding of feature vectors for the dataset map, run in chunks: the common face of t-SNE and UMAP
// so that the CLI, the GUI's animated map and the benchmark drive either the same way.
//   auto e = Embedder::create(x, options);
//   while (!e->done()) { e->run(10); draw(e->embedding()); }   // progress: e->step() / e->steps()
#include "map/Tsne.h"
#include "map/Umap.h"

#include <torch/types.h>

#include <memory>
#include <string>

namespace convscope {

class Embedder {
public:
    enum class Method { Tsne, Umap };

    struct Options {
        Method method = Method::Tsne; ///< t-SNE: finer local structure; UMAP: faster, more global structure
        Tsne::Options tsne;           ///< used when method is Tsne
        Umap::Options umap;           ///< used when method is Umap
    };

    virtual ~Embedder() = default;

    /// Prepares the embedding of `x` (N×D, rows = points; NaN rows refused): neighbour graph and start positions.
    /// Throws UsageError for too few points or NaN rows.
    static std::unique_ptr<Embedder> create(const torch::Tensor &x, const Options &options);
    /// "tsne" / "umap" (case-insensitive); throws UsageError naming the choices otherwise.
    static Method parseMethod(const std::string &name);
    static std::string methodName(Method method);

    /// Advances by up to `steps` optimisation steps (t-SNE iterations, UMAP epochs).
    virtual void run(int steps) = 0;
    virtual bool done() const = 0;
    virtual int step() const = 0;
    virtual int steps() const = 0;
    /// N×dims current positions (float32, a copy).
    virtual torch::Tensor embedding() const = 0;
};

} // namespace convscope
