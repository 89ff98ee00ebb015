#include "cli/app.hpp"

int main(int argc, char** argv) {
    return lethe::cli::app_main(argc, argv);
}
