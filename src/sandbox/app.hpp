#pragma once

namespace lethe::sandbox {

// lethe-sandbox's entry point: parses flags and serves. Returns 0 (also for --help), 1 when
// the server cannot run, 2 for a bad command line.
int sandbox_main(int argc, char** argv);

} // namespace lethe::sandbox
