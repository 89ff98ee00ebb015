// The man pages and `--version` against the real binaries: the pages must list every subcommand,
// sandbox option and configuration key the programs have, so they cannot silently drift.
#include "support/process.hpp"

#include <catch2/catch.hpp>
#include <curl/curl.h>
#include <fstream>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <regex>
#include <set>
#include <sqlite3.h>
#include <sstream>

using lethe::test::run;

namespace {

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// roff escapes a hyphen as "\-"; the comparison wants the plain text.
std::string unescape_roff(std::string text) {
    return std::regex_replace(text, std::regex(R"(\\-)"), "-");
}

std::string man_page(const std::string& name) {
    return unescape_roff(read_text(lethe::test::source_root() / "docs" / "man" / name));
}

// Subcommand names from the "Subcommands:" block of a CLI11 help text.
std::set<std::string> help_subcommands(const std::string& help) {
    std::set<std::string> names;
    std::istringstream in(help);
    std::string line;
    bool in_block = false;
    while (std::getline(in, line)) {
        if (line == "Subcommands:") {
            in_block = true;
        } else if (in_block && line.rfind("  ", 0) == 0) {
            names.insert(line.substr(2, line.find(' ', 2) - 2));
        } else if (in_block) {
            break;
        }
    }
    return names;
}

// Command names documented in lethe.1: the first word of each tagged paragraph under COMMANDS.
std::set<std::string> man_commands(const std::string& page) {
    std::set<std::string> names;
    std::istringstream in(page);
    std::string line;
    bool in_section = false;
    bool tag_next = false;
    while (std::getline(in, line)) {
        if (line.rfind(".SH", 0) == 0) {
            in_section = line == ".SH COMMANDS";
        } else if (in_section && line == ".TP") {
            tag_next = true;
        } else if (tag_next) {
            tag_next = false;
            std::smatch m;
            REQUIRE(std::regex_search(line, m, std::regex(R"(^\.B[IR]?\s+"?([a-z-]+))")));
            names.insert(m[1]);
        }
    }
    return names;
}

// Long options ("--name") that a help text offers.
std::set<std::string> help_options(const std::string& help) {
    std::set<std::string> options;
    std::regex option(R"(--[a-z][a-z0-9-]*)");
    for (std::sregex_iterator it(help.begin(), help.end(), option), end; it != end; ++it) {
        options.insert(it->str());
    }
    return options;
}

// Keys of config/lethe.toml, including the optional ones shown commented out ("# key = ...").
std::set<std::string> config_keys(const std::string& toml) {
    std::set<std::string> keys;
    std::istringstream in(toml);
    std::string line;
    std::regex key(R"(^(?:# )?([a-z_]+) = )");
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, key)) {
            keys.insert(m[1]);
        }
    }
    return keys;
}

std::string meson_project_version() {
    std::string meson = read_text(lethe::test::source_root() / "meson.build");
    std::smatch m;
    REQUIRE(std::regex_search(meson, m, std::regex(R"(version : '([^']+)')")));
    return m[1];
}

} // namespace

TEST_CASE("lethe(1) documents exactly the subcommands of lethe --help", "[e2e][packaging]") {
    auto help = run({lethe::test::lethe_bin(), "--help"});
    REQUIRE(help.exit_code == 0);
    std::set<std::string> from_help = help_subcommands(help.out);
    REQUIRE(from_help.size() >= 10);
    CHECK(man_commands(man_page("lethe.1")) == from_help);
}

TEST_CASE("lethe(1) documents every subcommand of audit and config", "[e2e][packaging]") {
    std::string page = man_page("lethe.1");
    for (const std::string group : {"audit", "config"}) {
        auto help = run({lethe::test::lethe_bin(), group, "--help"});
        REQUIRE(help.exit_code == 0);
        std::set<std::string> subs = help_subcommands(help.out);
        REQUIRE_FALSE(subs.empty());
        for (const auto& sub : subs) {
            INFO(group << " " << sub);
            CHECK(page.find(group + " " + sub) != std::string::npos);
        }
    }
}

TEST_CASE("lethe-sandbox(1) documents every option of lethe-sandbox --help", "[e2e][packaging]") {
    auto help = run({lethe::test::sandbox_bin(), "--help"});
    REQUIRE(help.exit_code == 0);
    std::set<std::string> options = help_options(help.out);
    REQUIRE(options.size() >= 20);
    std::string page = man_page("lethe-sandbox.1");
    for (const auto& option : options) {
        if (option == "--help") {
            continue;
        }
        INFO(option);
        CHECK(page.find(option) != std::string::npos);
    }
}

TEST_CASE("lethe.toml(5) documents every key of config/lethe.toml", "[e2e][packaging]") {
    std::set<std::string> keys =
        config_keys(read_text(lethe::test::source_root() / "config" / "lethe.toml"));
    REQUIRE(keys.size() >= 20);
    std::string page = man_page("lethe.toml.5");
    for (const auto& key : keys) {
        INFO(key);
        CHECK(page.find(".B " + key + "\n") != std::string::npos);
    }
}

TEST_CASE("lethe --version names the version, revision and the libraries it runs with",
          "[e2e][packaging]") {
    auto r = run({lethe::test::lethe_bin(), "--version"});
    REQUIRE(r.exit_code == 0);
    std::istringstream lines(r.out);
    std::string first, sqlite, curl, openssl, mhd;
    std::getline(lines, first);
    std::getline(lines, sqlite);
    std::getline(lines, curl);
    std::getline(lines, openssl);
    std::getline(lines, mhd);

    std::smatch m;
    REQUIRE(
        std::regex_match(first, m, std::regex(R"(lethe (\S+) \(git ([0-9a-f]{12}|unknown)\))")));
    CHECK(m[1] == meson_project_version());
    CHECK(sqlite == std::string("SQLite ") + sqlite3_libversion());
    CHECK(curl.rfind(std::string("libcurl ") + curl_version_info(CURLVERSION_NOW)->version, 0) ==
          0);
    CHECK(openssl == std::string("OpenSSL ") + OpenSSL_version(OPENSSL_VERSION_STRING));
    CHECK(mhd == std::string("libmicrohttpd ") + MHD_get_version());
}
