#include "sandbox/app.hpp"

int main(int argc, char** argv) {
    return lethe::sandbox::sandbox_main(argc, argv);
}
