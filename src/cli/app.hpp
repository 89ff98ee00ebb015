#pragma once

namespace lethe::cli {

// Parses the command line, runs the subcommand and returns the process exit code; every
// lethe::Error is printed as "lethe: error: ..." and mapped to its documented code.
int app_main(int argc, char** argv);

} // namespace lethe::cli
