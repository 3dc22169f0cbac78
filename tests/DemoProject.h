#pragma once
// A project folder holding a finished scan (default layers and features) of the demo model over the first images of
// the Fashion-MNIST test set: where the search and map tests start from.
#include "data/ImageSource.h"
#include "scan/StoredScan.h"
#include "TestPaths.h"

#include <memory>
#include <string>

namespace testprojects {

struct DemoProject {
    std::shared_ptr<const convscope::Model> model;
    std::shared_ptr<const convscope::ImageSource> source;
};

/// Scans the first `limit` test images into `project`.
inline DemoProject scanDemo(const std::string &project, std::int64_t limit)
{
    const std::string data = testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz";
    DemoProject demo{convscope::Model::load(testpaths::demoModel()),
                     std::shared_ptr<const convscope::ImageSource>(convscope::ImageSource::open(data))};
    convscope::StoredScan::Options so;
    so.project = project;
    so.scan.limit = limit;
    convscope::StoredScan scan(demo.model, demo.source, data, so);
    while (scan.run(4)) {
    }
    return demo;
}

} // namespace testprojects
