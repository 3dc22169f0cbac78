// Datasets: idx files, class folders with odd and broken images, single files, DATASET#INDEX references.
#include "CatchTorch.h"

#include "data/BatchReader.h"
#include "common/Error.h"
#include "data/IdxSource.h"
#include "data/ImageDecoder.h"
#include "data/ImageReference.h"
#include "data/ImageSource.h"
#include "common/NpyFile.h"
#include "TestPaths.h"

#include <QDir>
#include <QTemporaryDir>

#include <fstream>
#include <zlib.h>

using namespace convscope;

namespace {
std::string images() { return testpaths::fixtures() + "/images"; }

void writeIdx(const std::string &path, bool gz, int n)
{
    std::vector<unsigned char> data = {0, 0, 8, 3, 0, 0, 0, static_cast<unsigned char>(n), 0, 0, 0, 2, 0, 0, 0, 3};
    for (int i = 0; i < n * 6; ++i)
        data.push_back(static_cast<unsigned char>(i));
    if (gz) {
        gzFile f = gzopen(path.c_str(), "wb");
        gzwrite(f, data.data(), static_cast<unsigned>(data.size()));
        gzclose(f);
    } else {
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(data.data()), data.size());
    }
}
} // namespace

TEST_CASE("Fashion-MNIST idx files from the Debian package", "[data][images]")
{
    auto test = ImageSource::open(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz");
    REQUIRE(test->size() == 10000);
    CHECK(test->label(0) == 9); // ankle boot
    CHECK(test->label(1) == 2); // pullover
    cv::Mat img = test->image(0);
    CHECK(img.rows == 28);
    CHECK(img.cols == 28);
    CHECK(img.type() == CV_8UC1);
    CHECK(cv::countNonZero(img) > 100);
    CHECK(test->name(5) == "t10k-images-idx3-ubyte.gz#5");
    // The folder opens as both files (train + test): 70,000 images.
    auto all = ImageSource::open(testpaths::fashionDir());
    CHECK(all->size() == 70000);
}

TEST_CASE("idx files: plain and gzip, without labels, corrupt", "[data][images]")
{
    QTemporaryDir dir;
    const std::string plain = dir.filePath("x-images-idx3-ubyte").toStdString();
    const std::string gz = dir.filePath("y-images-idx3-ubyte.gz").toStdString();
    writeIdx(plain, false, 3);
    writeIdx(gz, true, 2);
    IdxSource both({plain, gz});
    CHECK(both.size() == 5);
    CHECK(both.label(0) == -1);
    CHECK(both.image(3).at<unsigned char>(0, 1) == 1);
    CHECK(both.image(1).at<unsigned char>(1, 2) == 11);
    const std::string bad = dir.filePath("z-images-idx3-ubyte").toStdString();
    std::ofstream(bad) << "garbage";
    CHECK_THROWS_AS(IdxSource({bad}), DataError);
}

TEST_CASE("class folders: labels from subfolders, odd images decoded right", "[data][images]")
{
    auto src = ImageSource::open(images() + "/good");
    CHECK(src->size() == 8);
    REQUIRE(src->classNames() == std::vector<std::string>{"gray", "red"});
    CHECK(src->name(0) == "gray/g.png");
    CHECK(src->label(0) == 0);
    CHECK(src->label(src->size() - 1) == 1);
    auto find = [&](const std::string &n) {
        for (int64_t i = 0; i < src->size(); ++i)
            if (src->name(i) == n)
                return src->image(i);
        FAIL("missing " << n);
        return cv::Mat();
    };
    cv::Mat rgba = find("red/c_rgba.png");
    CHECK(rgba.channels() == 3);
    CHECK(find("red/a.png").at<cv::Vec3b>(0, 0)[2] == 200); // BGR: red channel last
    cv::Mat cmyk = find("red/d_cmyk.jpg");
    CHECK(cmyk.channels() == 3);
    CHECK(std::abs(cmyk.at<cv::Vec3b>(5, 5)[2] - 200) < 12);
    cv::Mat exif = find("red/e_exif.jpg"); // stored 60×40, orientation 6 shows it 40 wide, 60 high
    CHECK(exif.cols == 40);
    CHECK(exif.rows == 60);
    cv::Mat g16 = find("gray/h16.png");
    CHECK(g16.depth() == CV_16U);
    torch::Tensor expected = NpyFile::read(images() + "/h16_values.npy");
    CHECK(g16.at<unsigned short>(3, 7) == expected[3][7].item<int>());
    CHECK(find("gray/one_pixel.png").total() == 1);
}

TEST_CASE("broken images are reported with path and skipped", "[data][images][errors]")
{
    const std::string bad = images() + "/bad";
    CHECK_THROWS_AS(ImageDecoder::decodeFile(bad + "/empty.jpg"), DataError);
    CHECK_THROWS_AS(ImageDecoder::decodeFile(bad + "/text.jpg"), DataError);
    CHECK_THROWS_AS(ImageDecoder::decodeFile(bad + "/missing.jpg"), IoError);
    try {
        ImageDecoder::decodeFile(bad + "/text.jpg");
    } catch (const Error &e) {
        CHECK(std::string(e.what()).find("text.jpg") != std::string::npos);
    }
    auto src = ImageSource::open(bad);
    InputSpec spec;
    spec.width = spec.height = 16;
    BatchReader reader(*src, Preprocessor(spec));
    Batch b = reader.read(0, src->size());
    // empty and text files can never decode; truncated files either fail or decode partially, never crash.
    CHECK(b.skipped.size() >= 2);
    CHECK(b.skipped.size() + b.indices.size() == 4);
    for (const auto &s : b.skipped)
        CHECK(!s.reason.empty());
}

TEST_CASE("empty folders and missing paths", "[data][images][errors]")
{
    QTemporaryDir dir;
    CHECK_THROWS_AS(ImageSource::open(dir.path().toStdString()), DataError);
    CHECK_THROWS_AS(ImageSource::open("/nonexistent/folder"), IoError);
}

TEST_CASE("DATASET#INDEX references", "[data][images]")
{
    auto ref = ImageReference::load(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz#1");
    CHECK(ref.label == 2);
    CHECK(ref.image.rows == 28);
    CHECK_THROWS_AS(ImageReference::load(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz#10000"), UsageError);
    CHECK_THROWS_AS(ImageReference::load(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz#x"), UsageError);
}
