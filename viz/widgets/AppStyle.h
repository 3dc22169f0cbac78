#pragma once
// The app's look: Fusion style with a dark palette (colormaps read best on dark backgrounds).
class QApplication;

namespace convscope {

class AppStyle {
public:
    static void apply(QApplication &app);
};

} // namespace convscope
