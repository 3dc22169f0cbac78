#pragma once
// The forward-hook records of tests/fixtures/make_models.py: OUT/<arch>/calls.json lists every module call in hook
// order with its name, class and the .npy file of what the hook saw.
#include "CatchTorch.h"

#include <ATen/Parallel.h>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <string>
#include <vector>

namespace hookref {

/// The fixtures were computed on one thread; kernels split reductions differently with more threads.
struct OneThread {
    int saved = at::get_num_threads();
    OneThread() { at::set_num_threads(1); }
    ~OneThread() { at::set_num_threads(saved); }
};

struct RefCall {
    std::string name, type, file; ///< "layer1.0.relu#2", "ReLU", "c0012.npy" (empty when the output was no tensor)
};

inline std::vector<RefCall> readCalls(const std::string &dir)
{
    QFile f(QString::fromStdString(dir + "/calls.json"));
    REQUIRE(f.open(QIODevice::ReadOnly));
    std::vector<RefCall> calls;
    for (const auto &v : QJsonDocument::fromJson(f.readAll()).object()["calls"].toArray()) {
        auto o = v.toObject();
        calls.push_back({o["name"].toString().toStdString(), o["type"].toString().toStdString(),
                         o["file"].toString().toStdString()});
    }
    return calls;
}

} // namespace hookref
