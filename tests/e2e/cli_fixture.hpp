#pragma once

#include "support/process.hpp"
#include "support/tempdir.hpp"

#include <string>
#include <vector>

namespace lethe::test {

// A throw-away lethe installation: config, keys and database in a temporary directory, driven
// through the real binary.
class CliFixture {
public:
    explicit CliFixture(const std::string& extra_config = "") {
        write_text(dir / "lethe.toml", "[database]\npath = \"state/lethe.db\"\n"
                                       "[audit]\nsubject_key_file = \"state/subject.key\"\n"
                                       "checkpoint_key_file = \"state/checkpoint.key\"\n"
                                       "checkpoint_dir = \"state/checkpoints\"\n" +
                                           extra_config);
    }

    // Runs `lethe ARGS...` with this installation's config.
    ProcessResult lethe(std::vector<std::string> args, const std::string& stdin_data = "",
                        bool with_stdin = false) const {
        std::vector<std::string> argv = {lethe_bin(), "--config", (dir / "lethe.toml").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        ProcessOptions opts;
        if (with_stdin) {
            opts.stdin_data = stdin_data;
        }
        opts.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
        return run(argv, opts);
    }

    // Writes a CSV file into the installation and returns its path.
    std::string csv(const std::string& name, const std::string& content) const {
        write_text(dir / name, content);
        return (dir / name).string();
    }

    // Runs `lethe init` and fails the test if it does not succeed.
    void init() const;

    std::filesystem::path db_path() const { return dir / "state" / "lethe.db"; }

    TempDir dir;
};

} // namespace lethe::test
