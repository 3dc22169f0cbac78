// Patches are cut from the image as the model sees it, exactly at the receptive field, with padding marked.
#include "CatchTorch.h"

#include "common/Error.h"
#include "data/ImageSource.h"
#include "model/Model.h"
#include "scan/PatchExtractor.h"
#include "TestPaths.h"

using namespace convscope;

TEST_CASE("patches: crops at the field, padding where the field leaves the image", "[scan][patches]")
{
    auto model = Model::load(testpaths::demoModel());
    auto source = ImageSource::open(testpaths::fashionDir() + "/t10k-images-idx3-ubyte.gz");
    PatchExtractor patches(*source, Preprocessor(model->input()), 4);
    const torch::Tensor whole = patches.whole(7);
    REQUIRE(whole.sizes() == std::vector<int64_t>{3, 28, 28});
    // The idx pixels scaled to [0, 1], grey repeated to RGB.
    const cv::Mat raw = source->image(7);
    CHECK(whole[0][10][12].item<float>() == Approx(raw.at<unsigned char>(10, 12) / 255.0f).margin(1e-6));
    CHECK(torch::equal(whole[0], whole[2]));

    // conv4's field at (0, 0) starts 9 px above and left of the image: that part is padding.
    const ReceptiveField &field = model->layer("features.conv4").field;
    const auto rect = field.at(0, 0);
    CHECK(rect == ReceptiveField::Rect{-9, 13, -9, 13});
    const torch::Tensor p = patches.crop(7, rect);
    REQUIRE(p.sizes() == std::vector<int64_t>{3, 22, 22});
    CHECK(torch::equal(p.narrow(1, 9, 13).narrow(2, 9, 13), whole.narrow(1, 0, 13).narrow(2, 0, 13)));
    float rgb[3];
    PatchExtractor::paddingColor(-9, -9, rgb);
    CHECK(p[2][0][0].item<float>() == rgb[2]);
    CHECK(p[2][0][0].item<float>() != p[0][0][0].item<float>()); // blue: never a grey image value
    // A field wholly inside: a plain crop.
    const auto inner = field.at(3, 3); // rows and columns [3, 25)
    CHECK(torch::equal(patches.crop(7, inner), whole.narrow(1, inner.y0, 22).narrow(2, inner.x0, 22)));
    // Mosaic: 3×3 cells with 1-px gaps; fewer patches keep the layout.
    const torch::Tensor m = PatchExtractor::mosaic({p, p}, 3, 9);
    CHECK(m.sizes() == std::vector<int64_t>{3, 3 * 23 - 1, 3 * 23 - 1});
    CHECK_THROWS_AS(patches.crop(123456, inner), DataError);
}
