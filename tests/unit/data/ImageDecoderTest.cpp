// Decoding refuses a JPEG cut short (which libjpeg would fill with grey, silently) with a reason the user reads,
// keeps complete JPEGs — baseline, progressive, with restart markers, with bytes after the end — and a scan of a
// folder holding a truncated photo skips it with that reason. skimage's sample TIFFs: a 64-bit colour TIFF is
// refused with the reason before OpenCV fails on it, 8-bit data in 16-bit files reads as 8-bit (not near-black),
// a damaged TIFF header is no crash.
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/ImageDecoder.h"
#include "data/ImageSource.h"
#include "data/JpegDecoder.h"
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

/// `bytes` with an APP1 Exif segment holding orientation `o` (a one-entry IFD0, `little` or big endian) after SOI.
std::vector<unsigned char> withOrientation(const std::vector<unsigned char> &bytes, int o, bool little)
{
    auto u16 = [&](unsigned v) {
        return little ? std::vector<unsigned char>{static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8)}
                      : std::vector<unsigned char>{static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    };
    std::vector<unsigned char> tiff = {static_cast<unsigned char>(little ? 'I' : 'M'),
                                       static_cast<unsigned char>(little ? 'I' : 'M')};
    auto append = [&](const std::vector<unsigned char> &v) { tiff.insert(tiff.end(), v.begin(), v.end()); };
    append(u16(42));
    append(little ? std::vector<unsigned char>{8, 0, 0, 0} : std::vector<unsigned char>{0, 0, 0, 8});
    append(u16(1));      // one entry
    append(u16(0x0112)); // orientation
    append(u16(3));      // SHORT
    append(little ? std::vector<unsigned char>{1, 0, 0, 0} : std::vector<unsigned char>{0, 0, 0, 1});
    append(u16(static_cast<unsigned>(o)));
    append({0, 0});
    append({0, 0, 0, 0}); // no next IFD
    std::vector<unsigned char> app1 = {0xFF, 0xE1};
    const std::size_t length = 2 + 6 + tiff.size();
    app1.push_back(static_cast<unsigned char>(length >> 8));
    app1.push_back(static_cast<unsigned char>(length));
    for (char c : std::string("Exif\0\0", 6))
        app1.push_back(static_cast<unsigned char>(c));
    app1.insert(app1.end(), tiff.begin(), tiff.end());
    std::vector<unsigned char> out(bytes.begin(), bytes.begin() + 2);
    out.insert(out.end(), app1.begin(), app1.end());
    out.insert(out.end(), bytes.begin() + 2, bytes.end());
    return out;
}

bool samePixels(const cv::Mat &a, const cv::Mat &b)
{
    return a.size() == b.size() && a.type() == b.type() && (a.empty() || cv::norm(a, b, cv::NORM_INF) == 0);
}

} // namespace

TEST_CASE("JPEGs decoded through libjpeg directly equal OpenCV's decode: colour, grey, progressive, 4:4:4, every "
          "reduction and EXIF orientation",
          "[data][images]")
{
    // (OpenCV 4.6 writes 4:2:0 only; the skimage photos and the zoo's files bring other layouts.)
    const int reduced[] = {0, 0, cv::IMREAD_REDUCED_GRAYSCALE_2, 0, cv::IMREAD_REDUCED_GRAYSCALE_4, 0, 0, 0,
                           cv::IMREAD_REDUCED_GRAYSCALE_8};
    cv::Mat grey;
    cv::cvtColor(picture(), grey, cv::COLOR_BGR2GRAY);
    std::vector<std::pair<std::string, std::vector<unsigned char>>> files = {
        {"colour", jpeg(picture())},
        {"grey", jpeg(grey)},
        {"progressive", jpeg(picture(), {cv::IMWRITE_JPEG_PROGRESSIVE, 1})},
        {"q100", jpeg(picture(), {cv::IMWRITE_JPEG_QUALITY, 100})},
        {"q30, optimised tables", jpeg(picture(), {cv::IMWRITE_JPEG_QUALITY, 30, cv::IMWRITE_JPEG_OPTIMIZE, 1})},
        {"restart markers", jpeg(picture(), {cv::IMWRITE_JPEG_RST_INTERVAL, 3})},
    };
    for (const std::string path : {testpaths::fixtures() + "/images/zoo/b.jpg", testpaths::fixtures() + "/images/zoo/e_exif.jpg",
                                   testpaths::skimageData() + "/hubble_deep_field.jpg",
                                   testpaths::skimageData() + "/retina.jpg", testpaths::skimageData() + "/rocket.jpg"}) {
        std::ifstream in(path, std::ios::binary);
        files.emplace_back(path, std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {}));
        REQUIRE_FALSE(files.back().second.empty());
    }
    for (int o = 1; o <= 8; ++o)
        files.emplace_back("orientation " + std::to_string(o), withOrientation(jpeg(picture()), o, o % 2 == 0));
    for (const auto &[label, bytes] : files)
        for (int r : {1, 2, 4, 8}) {
            INFO(label << " at 1/" << r);
            const cv::Mat ours = JpegDecoder::decode(bytes, r, label);
            REQUIRE_FALSE(ours.empty());
            CHECK(samePixels(ours, cv::imdecode(bytes, cv::IMREAD_ANYCOLOR | cv::IMREAD_ANYDEPTH | reduced[r])));
        }
    // The orientation is read (a 96×80 picture turned by 90° is 80 wide), from either byte order.
    CHECK(JpegDecoder::exifOrientation(withOrientation(jpeg(picture()), 6, true)) == 6);
    CHECK(JpegDecoder::exifOrientation(withOrientation(jpeg(picture()), 8, false)) == 8);
    CHECK(JpegDecoder::decode(withOrientation(jpeg(picture()), 6, false), 1, "x").cols == 80);
    CHECK(JpegDecoder::exifOrientation(jpeg(picture())) == 1);

    // CMYK is left to OpenCV (an empty result), which ImageDecoder then uses.
    std::ifstream in(testpaths::fixtures() + "/images/zoo/d_cmyk.jpg", std::ios::binary);
    const std::vector<unsigned char> cmyk{std::istreambuf_iterator<char>(in), {}};
    CHECK(JpegDecoder::decode(cmyk, 1, "cmyk").empty());
    CHECK(samePixels(ImageDecoder::decode(cmyk, "cmyk"), cv::imdecode(cmyk, cv::IMREAD_ANYCOLOR | cv::IMREAD_ANYDEPTH)));

    // A header libjpeg cannot read is left to OpenCV, which refuses it: a DataError naming the file, not a crash or
    // exit().
    std::vector<unsigned char> broken = jpeg(picture());
    for (std::size_t i = 0; i + 1 < broken.size(); ++i)
        if (broken[i] == 0xFF && broken[i + 1] == 0xC4) { // Huffman tables: make them invalid
            for (std::size_t j = i + 5; j < std::min(broken.size(), i + 21); ++j)
                broken[j] = 0xFF;
            break;
        }
    CHECK(JpegDecoder::decode(broken, 1, "broken.jpg").empty());
    CHECK_THROWS_WITH(ImageDecoder::decode(broken, "broken.jpg"), Catch::Contains("broken.jpg"));

    // A header that claims 60000×60000 pixels (3.6 billion, OpenCV's limit is 2^30): refused before allocating.
    std::vector<unsigned char> huge = jpeg(picture());
    bool patched = false;
    for (std::size_t i = 0; i + 8 < huge.size() && !patched; ++i)
        if (huge[i] == 0xFF && huge[i + 1] == 0xC0) { // start of frame: length, precision, height, width
            huge[i + 5] = huge[i + 7] = 0xEA;
            huge[i + 6] = huge[i + 8] = 0x60;
            patched = true;
        }
    REQUIRE(patched);
    CHECK_THROWS_WITH(JpegDecoder::decode(huge, 1, "huge.jpg"), Catch::Contains("more than the limit"));

    // Damaged files — random bytes overwritten anywhere, EXIF segment included — decode or give a DataError; never
    // a crash (the sanitizer build runs this too).
    const std::vector<unsigned char> original = withOrientation(jpeg(picture()), 6, true);
    cv::RNG rng(3);
    int decoded = 0, refused = 0;
    for (int trial = 0; trial < 400; ++trial) {
        std::vector<unsigned char> bytes = original;
        const int changes = 1 + rng.uniform(0, 8);
        for (int k = 0; k < changes; ++k) {
            // Half of the changes in the header and EXIF (the first 200 bytes), half anywhere.
            const int span = rng.uniform(0, 2) ? 200 : static_cast<int>(bytes.size());
            bytes[static_cast<std::size_t>(rng.uniform(2, span))] = static_cast<unsigned char>(rng.uniform(0, 256));
        }
        for (int r : {1, 8}) {
            try {
                decoded += !ImageDecoder::decode(bytes, "damaged.jpg", [r](int, int) { return r; }).empty();
            } catch (const DataError &) {
                ++refused;
            }
        }
    }
    CHECK(decoded > 0);
    CHECK(decoded + refused == 800);
}

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
