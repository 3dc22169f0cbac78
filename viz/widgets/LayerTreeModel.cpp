#include "widgets/LayerTreeModel.h"

#include <QColor>

namespace convscope {

void LayerTreeModel::setModel(std::shared_ptr<const Model> model)
{
    beginResetModel();
    model_ = std::move(model);
    children_.clear();
    row_.clear();
    if (model_) {
        const auto &layers = model_->layers();
        children_.resize(layers.size() + 1);
        row_.resize(layers.size());
        // Siblings appear in forward order, which is their call order.
        for (const auto &l : layers) {
            auto &siblings = children_[static_cast<size_t>(l.parent + 1)];
            row_[static_cast<size_t>(l.index)] = static_cast<int>(siblings.size());
            siblings.push_back(l.index);
        }
    }
    endResetModel();
}

QModelIndex LayerTreeModel::indexOfLayer(int layerIndex) const
{
    if (!model_ || layerIndex < 0 || layerIndex >= static_cast<int>(row_.size()))
        return {};
    return createIndex(row_[static_cast<size_t>(layerIndex)], 0, static_cast<quintptr>(layerIndex));
}

QModelIndex LayerTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!model_)
        return {};
    const size_t slot = parent.isValid() ? static_cast<size_t>(parent.internalId()) + 1 : 0;
    if (slot >= children_.size() || row < 0 || row >= static_cast<int>(children_[slot].size()))
        return {};
    return createIndex(row, column, static_cast<quintptr>(children_[slot][static_cast<size_t>(row)]));
}

QModelIndex LayerTreeModel::parent(const QModelIndex &child) const
{
    if (!model_ || !child.isValid())
        return {};
    const int p = model_->layers()[child.internalId()].parent;
    return p < 0 ? QModelIndex() : createIndex(row_[static_cast<size_t>(p)], 0, static_cast<quintptr>(p));
}

int LayerTreeModel::rowCount(const QModelIndex &parent) const
{
    if (!model_ || (parent.isValid() && parent.column() != 0))
        return 0;
    const size_t slot = parent.isValid() ? static_cast<size_t>(parent.internalId()) + 1 : 0;
    return slot < children_.size() ? static_cast<int>(children_[slot].size()) : 0;
}

QVariant LayerTreeModel::data(const QModelIndex &index, int role) const
{
    if (!model_ || !index.isValid())
        return {};
    const LayerInfo &l = model_->layers()[index.internalId()];
    if (role == IndexRole)
        return l.index;
    if (role == KindRole)
        return QString(layerKindName(l.kind));
    if (role == Qt::ToolTipRole) {
        QString tip = QString::fromStdString(l.path) + "\n" + QString::fromStdString(l.type) + " (" +
                      layerKindName(l.kind) + ")";
        if (!l.capturable)
            tip += "\nOutput not available: " + QString::fromStdString(l.whyNot);
        return tip;
    }
    if (role == Qt::TextAlignmentRole && index.column() >= Params)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ForegroundRole && !l.capturable)
        return QColor(Qt::gray);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Name: {
        QString name = QString::fromStdString(l.path.substr(l.path.rfind('.') == std::string::npos ? 0 : l.path.rfind('.') + 1));
        if (!l.displayName.empty())
            name += "  (" + QString::fromStdString(l.displayName) + ")";
        return name;
    }
    case Type: return QString::fromStdString(l.type);
    case Output: {
        QStringList dims;
        for (size_t i = 1; i < l.outputShape.size(); ++i)
            dims << QString::number(l.outputShape[i]);
        return l.capturable ? dims.join(QChar(0xd7)) : QStringLiteral("n/a");
    }
    case Params: return l.params ? QString::fromStdString(humanCount(l.params)) : QString();
    case Macs: return l.macs ? QString::fromStdString(humanCount(l.macs)) : QString();
    }
    return {};
}

QVariant LayerTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *names[] = {"Layer", "Type", "Output", "Params", "MACs"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace convscope
