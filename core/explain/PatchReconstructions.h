#pragma once
// Zeiler & Fergus's two-column figure from a stored scan: each of a unit's top-k patches beside the projection of
// the unit (at the patch's position, in the patch's own image) back to the input — deconvnet, guided backprop or
// the plain gradient — cropped at the same receptive field.
//
// The k projections of a unit cost one batched forward/backward pass. Results are cached in the project
// (scan-ID/recon-RULE/SLOT-UNIT.npy: k×C×h×w raw crops, zero outside the image), so a sheet computed once in the
// background draws instantly afterwards and the CLI and the GUI share the work.
// Not thread-safe (like TopPatchSheets): give each worker its own.
#include "explain/BackpropRule.h"
#include "common/Progress.h"
#include "explain/ReconstructionDisplay.h"
#include "explain/Reconstructor.h"
#include "scan/TopPatchSheets.h"

namespace convscope {

class PatchReconstructions {
public:
    struct Options {
        BackpropRule rule = BackpropRule::Deconvnet;                       ///< how the units are projected
        ReconstructionDisplay::Style style = ReconstructionDisplay::Style::Auto; ///< how projections are drawn
        bool cache = true; ///< read and write the project's cache (off: always compute, write nothing)
    };

    PatchReconstructions(TopPatchSheets &sheets, const Reconstructor &reconstructor, Options options);

    /// k×C×h×w raw projections of a unit's top-k entries (by maximum), cropped at each entry's receptive field
    /// (zero where the field leaves the image). Cached. Throws UsageError for a unit the layer lacks.
    torch::Tensor raw(int slot, std::int64_t unit);
    /// Whether raw(slot, unit) would come from the cache.
    bool cached(int slot, std::int64_t unit) const;
    /// The projections as 3×h×w tiles (padding checks outside the image, like the patches).
    std::vector<torch::Tensor> tiles(int slot, std::int64_t unit);

    /// One unit: k pairs (patch, projection) in rows of 3 pairs, captioned.
    TileSet unitSheet(int slot, std::int64_t unit);
    /// A layer's units (`units` empty = all), each one tile: the projections' mosaic left of the patches' mosaic.
    /// Reports per unit to `progress` and stops with CancelledError when it is cancelled (cached units are kept).
    /// `maxPatchSide` > 0 shrinks every patch and projection to it (TopPatchSheets::poster): memory follows the shown
    /// size.
    TileSet poster(int slot, const std::vector<std::int64_t> &units = {}, Progress *progress = nullptr,
                   int maxPatchSide = 0);

    /// Computes and caches the units (`units` empty = all) — the background job behind a whole-layer figure.
    void precompute(int slot, const std::vector<std::int64_t> &units, Progress *progress);

private:
    std::string cachePath(int slot, std::int64_t unit) const;
    std::vector<std::int64_t> allUnits(int slot, const std::vector<std::int64_t> &units);

    TopPatchSheets &sheets_;
    const Reconstructor &reconstructor_;
    Options options_;
};

} // namespace convscope
