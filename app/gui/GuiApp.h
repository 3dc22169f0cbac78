#pragma once
// Starts the desktop app: `convscope` (last session, else the bundled demo) or `convscope MODEL [DATASET]`.
namespace convscope {

class GuiApp {
public:
    static int run(int argc, char **argv);
};

} // namespace convscope
