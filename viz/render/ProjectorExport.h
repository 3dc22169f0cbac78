#pragma once
// Writes a dataset map as a TensorBoard-projector bundle, so the same data opens in TensorBoard (or the standalone
// projector): tensors.tsv (the features, a row per image), metadata.tsv (index, name, label, prediction, and our
// 2-D map position), sprite.png (all thumbnails in one grid image, kept within the projector's 8192×8192 limit by
// shrinking the cells) and projector_config.pbtxt (TensorBoard) plus projector_config.json (standalone).
#include <QImage>
#include <QString>

#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace convscope {

class ProjectorExport {
public:
    struct Item {
        std::int64_t index = -1;
        std::string name;
        std::string label, prediction; ///< class names (may be empty)
    };
    /// `features` N×D, `coords` N×2 (may be undefined), `thumbnail(i)` RGB image of point i. Creates `dir`.
    /// Throws IoError when a file cannot be written. Returns the sprite's cell size in pixels.
    static int write(const QString &dir, const std::string &tensorName, const torch::Tensor &features,
                     const torch::Tensor &coords, const std::vector<Item> &items,
                     const std::function<QImage(std::int64_t)> &thumbnail, int cell = 28);
};

} // namespace convscope
