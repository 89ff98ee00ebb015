#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace lethe::cli {

// A bash completion script for `app`, walked from its CLI11 definition: every visible
// subcommand (at any depth) and option, and file names after an option that takes a value. Built
// from the same objects as `--help`, so the two cannot disagree. Hidden subcommands and options
// (group "") are left out. Used by `lethe completion bash` and `lethe-sandbox --completion bash`,
// which meson runs at build time.
std::string bash_completion(const CLI::App& app);

} // namespace lethe::cli
