// Decoding refuses a JPEG cut short (which libjpeg would fill with grey, silently) with a reason the user reads,
// keeps complete JPEGs — baseline, progressive, with restart markers, with bytes after the end — and a scan of a
// folder holding a truncated photo skips it with that reason.
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/ImageDecoder.h"
#include "data/ImageSource.h"
#include "data/JpegIntegrity.h"
#include "scan/Scan.h"
#include "TestPaths.h"

#include <QDir>
#include <QTemporaryDir>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>

using namespace convscope;

namespace {

/// A 96×80 colour picture with detail in every block (so every part of the scan carries data).
cv::Mat picture()
{
    cv::Mat img(80, 96, CV_8UC3);
    cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
    cv::GaussianBlur(img, img, cv::Size(5, 5), 1.5);
    cv::circle(img, {48, 40}, 25, cv::Scalar(20, 200, 240), -1);
    return img;
}

std::vector<unsigned char> jpeg(const cv::Mat &img, std::vector<int> params = {})
{
    std::vector<unsigned char> bytes;
    REQUIRE(cv::imencode(".jpg", img, bytes, params));
    return bytes;
}

void write(const std::string &path, const std::vector<unsigned char> &bytes)
{
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

} // namespace

TEST_CASE("a JPEG cut short is refused with a reason, complete JPEGs decode", "[data][images][errors]")
{
    const cv::Mat img = picture();
    const std::vector<std::vector<int>> kinds = {
        {}, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}, {cv::IMWRITE_JPEG_RST_INTERVAL, 2}, {cv::IMWRITE_JPEG_QUALITY, 30}};
    for (const auto &params : kinds) {
        const auto whole = jpeg(img, params);
        INFO("JPEG of " << whole.size() << " bytes, params " << params.size());
        CHECK(JpegIntegrity::problem(whole).empty());
        CHECK(ImageDecoder::decode(whole, "whole.jpg").size() == img.size());
        // Bytes after the end-of-image marker (some cameras append data) are no reason to refuse.
        auto trailing = whole;
        trailing.insert(trailing.end(), {0x00, 0x13, 0x37, 0xFF, 0xD8});
        CHECK(JpegIntegrity::problem(trailing).empty());
        for (double keep : {0.5, 0.8, 0.97}) {
            std::vector<unsigned char> cut(whole.begin(), whole.begin() + static_cast<long>(whole.size() * keep));
            INFO("kept " << keep);
            // The hazard: OpenCV decodes a baseline JPEG cut short without complaint (the rest comes out grey)…
            if (keep > 0.6 && params.empty())
                CHECK_FALSE(cv::imdecode(cut, cv::IMREAD_COLOR).empty());
            // …so Convscope refuses it, saying why.
            try {
                ImageDecoder::decode(cut, "cut.jpg");
                FAIL("a truncated JPEG was decoded");
            } catch (const DataError &e) {
                CHECK(std::string(e.what()).find("cut.jpg") != std::string::npos);
                CHECK(std::string(e.what()).find("truncated") != std::string::npos);
            }
        }
    }
    CHECK_FALSE(JpegIntegrity::isJpeg({0x89, 'P', 'N', 'G'}));
}

TEST_CASE("a scan of a folder with a truncated photo skips it with the reason", "[data][images][errors]")
{
    QTemporaryDir dir;
    const cv::Mat img = picture();
    const auto whole = jpeg(img);
    write(dir.filePath("a_good.jpg").toStdString(), whole);
    write(dir.filePath("b_cut.jpg").toStdString(),
          std::vector<unsigned char>(whole.begin(), whole.begin() + static_cast<long>(whole.size() * 0.7)));
    write(dir.filePath("c_good.jpg").toStdString(), jpeg(img, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
    auto source = ImageSource::open(dir.path().toStdString());
    REQUIRE(source->size() == 3);
    auto model = Model::load(testpaths::demoModel());
    Scan::Options o;
    o.layers = {"features.conv1"};
    o.noFeatures = true;
    Scan scan(model, *source, o);
    while (scan.run(1)) {
    }
    CHECK(scan.done() == 3);
    REQUIRE(scan.skipped().size() == 1);
    CHECK(scan.skipped()[0].name.find("b_cut.jpg") != std::string::npos);
    CHECK(scan.skipped()[0].reason.find("truncated") != std::string::npos);
}
