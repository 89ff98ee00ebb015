#pragma once

#include "cli_fixture.hpp"
#include "serve/signature.hpp"

#include <chrono>
#include <csignal>
#include <ctime>
#include <httplib.h>
#include <memory>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <thread>

namespace lethe::test {

// A lethe installation with an intake secret and a running `lethe serve` on 127.0.0.1 (port 0:
// the test reads the actual URL from "lethe serve listening on URL").
class ServeFixture {
public:
    static constexpr const char* k_secret = "intake-e2e-secret-4b7d0c";

    explicit ServeFixture(const std::string& extra_config = "",
                          std::vector<std::string> serve_args = {}, ProcessOptions options = {})
        : cli("[intake]\nlisten = \"127.0.0.1:0\"\nsecret_file = \"intake.secret\"\n"
              "max_body_bytes = 4096\n" +
              extra_config) {
        write_secret(std::string(k_secret) + "\n");
        cli.init();
        start(std::move(serve_args), std::move(options));
    }

    // Configured by `intake_config` alone (the whole [intake] section and its [[intake.sender]]
    // tables); no secret file is written.
    struct OwnIntake {
        std::string intake_config;
    };
    explicit ServeFixture(const OwnIntake& own, std::vector<std::string> serve_args = {},
                          ProcessOptions options = {})
        : cli(own.intake_config) {
        cli.init();
        start(std::move(serve_args), std::move(options));
    }

    // (Re)writes the secret file, mode 0600.
    void write_secret(const std::string& content) const {
        write_text(secret_path(), content);
        ::chmod(secret_path().c_str(), 0600);
    }
    std::filesystem::path secret_path() const { return cli.dir / "intake.secret"; }

    // Starts `lethe serve ARGS` and waits for its URL.
    void start(std::vector<std::string> serve_args, ProcessOptions options) {
        std::vector<std::string> argv = {lethe_bin(), "--config", (cli.dir / "lethe.toml").string(),
                                         "serve"};
        argv.insert(argv.end(), serve_args.begin(), serve_args.end());
        options.unset_env.push_back("LETHE_CONFIG");
        options.unset_env.push_back("JOURNAL_STREAM");
        process = std::make_unique<Process>(argv, options);
        const std::regex line("lethe serve listening on (https?://[^\\s]+)");
        for (int i = 0; i < 1000 && url.empty(); ++i) {
            std::smatch m;
            std::string out = process->stdout_so_far();
            if (std::regex_search(out, m, line)) {
                url = m[1];
                break;
            }
            if (auto done = process->wait_for(std::chrono::milliseconds(10))) {
                throw std::runtime_error("lethe serve exited: " + done->err);
            }
        }
        if (url.empty()) {
            throw std::runtime_error("lethe serve did not start: " + process->stderr_so_far());
        }
    }

    httplib::Client client() const {
        httplib::Client c(url);
        c.set_read_timeout(std::chrono::seconds(20));
        return c;
    }

    // POSTs `body` with the given headers (no signature unless they carry one).
    httplib::Result post_raw(const std::string& body, const httplib::Headers& headers) const {
        return client().Post("/v1/erasure-requests", headers, body, "application/json");
    }

    // POSTs `body` signed now with `secret`.
    httplib::Result post(const std::string& body, const std::string& secret = k_secret) const {
        const std::string ts = std::to_string(std::time(nullptr));
        return post_raw(body, {{serve::k_timestamp_header, ts},
                               {serve::k_signature_header, serve::sign_request(secret, ts, body)}});
    }

    // SIGTERM, then waits for the exit.
    ProcessResult stop() {
        process->signal(SIGTERM);
        return process->wait(std::chrono::seconds(30));
    }

    CliFixture cli;
    std::unique_ptr<Process> process;
    std::string url;
};

} // namespace lethe::test
