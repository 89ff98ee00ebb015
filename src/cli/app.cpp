#include "cli/app.hpp"

#include <cstdio>

namespace lethe::cli {

int app_main(int, char**) {
    std::fputs("lethe: not yet\n", stderr);
    return 1;
}

} // namespace lethe::cli
