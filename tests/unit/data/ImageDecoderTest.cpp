// Decoding refuses a JPEG cut short (which libjpeg would fill with grey, silently) with a reason the user reads,
// keeps complete JPEGs — baseline, progressive, with restart markers, with bytes after the end — and a scan of a
// folder holding a truncated photo skips it with that reason. skimage's sample TIFFs: a 64-bit colour TIFF is
// refused with the reason before OpenCV fails on it, 8-bit data in 16-bit files reads as 8-bit (not near-black),
// a damaged TIFF header is no crash.
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/ImageDecoder.h"
#include "data/ImageSource.h"
#include "data/JpegIntegrity.h"
#include "data/TiffProbe.h"
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

TEST_CASE("TIFFs OpenCV cannot decode are refused with the reason, 8-bit data in 16 bits reads as 8-bit",
          "[data][images][errors]")
{
    const std::string data = testpaths::skimageData() + "/";
    try {
        ImageDecoder::decodeFile(data + "multipage_rgb.tif"); // 2 pages of float64 RGB
        FAIL("a 64-bit colour TIFF was decoded");
    } catch (const DataError &e) {
        CHECK(std::string(e.what()).find("multipage_rgb.tif") != std::string::npos);
        CHECK(std::string(e.what()).find("64-bit floating-point colour") != std::string::npos);
    }
    for (const char *name : {"chessboard_GRAY_U16.tif", "chessboard_GRAY_U16B.tif"}) { // both byte orders
        INFO(name);
        const cv::Mat img = ImageDecoder::decodeFile(data + name);
        CHECK(img.depth() == CV_8U);
        CHECK(img.channels() == 1);
        double lo = 0, hi = 0;
        cv::minMaxLoc(img, &lo, &hi);
        CHECK(lo == 0);
        CHECK(hi == 255); // a white and black board, as PIL reads it
    }
    // Real 16-bit data keeps its range.
    cv::Mat wide(8, 8, CV_16UC1, cv::Scalar(40000));
    std::vector<unsigned char> png;
    REQUIRE(cv::imencode(".png", wide, png));
    CHECK(ImageDecoder::decode(png, "wide.png").depth() == CV_16U);
    // Every other sample TIFF decodes, and a TIFF cut anywhere in its header is refused or decoded, never a crash.
    for (const char *name : {"multipage.tif", "_blobs_3d_fiji_skeleton.tif"})
        CHECK_FALSE(ImageDecoder::decodeFile(data + name).empty());
    std::ifstream in(data + "multipage_rgb.tif", std::ios::binary);
    const std::vector<unsigned char> tiff{std::istreambuf_iterator<char>(in), {}};
    REQUIRE(TiffProbe::isTiff(tiff));
    for (size_t cut : {8, 10, 20, 100, 200}) {
        const std::vector<unsigned char> head(tiff.begin(), tiff.begin() + static_cast<long>(cut));
        CHECK_NOTHROW(TiffProbe::problem(head));
    }
    CHECK_FALSE(TiffProbe::isTiff({'I', 'I', 42}));
}
