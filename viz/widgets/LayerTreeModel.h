#pragma once
// The model's module calls as a tree (Qt item model): columns layer, type, output shape, parameters, MACs.
// Item data: Qt::UserRole = layer index (int), KindRole = kind name ("conv").
#include "model/Model.h"

#include <QAbstractItemModel>

#include <memory>

namespace convscope {

class LayerTreeModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column { Name, Type, Output, Params, Macs, ColumnCount };
    static constexpr int IndexRole = Qt::UserRole;
    static constexpr int KindRole = Qt::UserRole + 1;

    explicit LayerTreeModel(QObject *parent = nullptr) : QAbstractItemModel(parent) {}
    void setModel(std::shared_ptr<const Model> model);
    /// The item of layer `layerIndex` (invalid when unknown).
    QModelIndex indexOfLayer(int layerIndex) const;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override { return ColumnCount; }
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::shared_ptr<const Model> model_;
    std::vector<std::vector<int>> children_; ///< children_[i + 1] = calls inside layer i; children_[0] = top level
    std::vector<int> row_;                   ///< row of each layer under its parent
};

} // namespace convscope
