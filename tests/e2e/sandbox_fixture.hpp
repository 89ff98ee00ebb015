#pragma once

#include "support/process.hpp"

#include <chrono>
#include <cstdio>
#include <httplib.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace lethe::test {

// A running lethe-sandbox on 127.0.0.1 (random port), with its credentials.
class Sandbox {
public:
    static constexpr const char* k_site_id = "sandbox-site";
    static constexpr const char* k_api_key = "sk_test_9f8e7d6c5b4a39281706";

    explicit Sandbox(std::vector<std::string> flags = {})
        : Sandbox(with_site(std::move(flags)), /*single_workspace=*/true) {}

    // A sandbox of several workspaces: `workspaces` is the --workspaces file's JSON, written to
    // `file`; `flags` are added (faults, latency).
    static Sandbox with_workspaces(const nlohmann::json& workspaces, const std::string& file,
                                   std::vector<std::string> flags = {}) {
        return Sandbox(with_file(workspaces, file, std::move(flags)), /*single_workspace=*/false);
    }

    const std::string& url() const { return m_url; }
    Process& process() { return *m_process; }

    // Seeds profiles (strings or {"id", "email", "phone", "cio_id"} objects) into `workspace`.
    void seed(const nlohmann::json& people, const std::string& workspace = "default") const {
        if (admin("/_sandbox/people", {{"workspace", workspace}, {"people", people}}) != 200) {
            throw std::runtime_error("sandbox refused the seed");
        }
    }

    // The live profiles of `workspace`.
    nlohmann::json profiles(const std::string& workspace = "default") const {
        return state()["workspaces"][workspace]["profiles"];
    }

    // True when a live profile of `workspace` has `field` equal to `value`.
    bool has_profile(const std::string& field, const std::string& value,
                     const std::string& workspace = "default") const {
        for (const auto& p : profiles(workspace)) {
            if (p[field].is_string() && p[field] == value) {
                return true;
            }
        }
        return false;
    }

private:
    struct Argv {
        std::vector<std::string> argv;
    };
    static Argv with_site(std::vector<std::string> flags) {
        std::vector<std::string> argv = {sandbox_bin(), "--listen", "127.0.0.1:0", "--site-id",
                                         k_site_id};
        argv.insert(argv.end(), flags.begin(), flags.end());
        return {argv};
    }
    static Argv with_file(const nlohmann::json& workspaces, const std::string& file,
                          std::vector<std::string> flags) {
        std::FILE* out = std::fopen(file.c_str(), "w");
        if (out == nullptr) {
            throw std::runtime_error("cannot write " + file);
        }
        std::string text = workspaces.dump(2);
        std::fwrite(text.data(), 1, text.size(), out);
        std::fclose(out);
        std::vector<std::string> argv = {sandbox_bin(), "--listen", "127.0.0.1:0", "--workspaces",
                                         file};
        argv.insert(argv.end(), flags.begin(), flags.end());
        return {argv};
    }

    Sandbox(Argv args, bool) {
        std::vector<std::string> argv = std::move(args.argv);
        ProcessOptions opts;
        opts.env["LETHE_SANDBOX_API_KEY"] = k_api_key;
        m_process = std::make_unique<Process>(argv, opts);
        const std::regex line("listening on (https?://[^\\s]+)");
        for (int i = 0; i < 500 && m_url.empty(); ++i) {
            std::smatch m;
            std::string out = m_process->stdout_so_far();
            if (std::regex_search(out, m, line)) {
                m_url = m[1];
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (m_url.empty()) {
            throw std::runtime_error("lethe-sandbox did not start: " + m_process->stderr_so_far());
        }
    }

public:
    // GET /_sandbox/state.
    nlohmann::json state() const {
        auto c = client();
        auto res = c.Get("/_sandbox/state");
        if (!res || res->status != 200) {
            throw std::runtime_error("sandbox state unavailable");
        }
        return nlohmann::json::parse(res->body);
    }

    // POST a JSON body to an admin endpoint.
    int admin(const std::string& path, const nlohmann::json& body) const {
        auto c = client();
        auto res = c.Post(path.c_str(), body.dump(), "application/json");
        return res ? res->status : -1;
    }

private:
    // A client for the admin endpoints. Over HTTPS the sandbox's certificate is the test's own
    // throw-away one, so this test-side client does not verify it (lethe itself always does).
    httplib::Client client() const {
        httplib::Client c(m_url);
        c.enable_server_certificate_verification(false);
        return c;
    }

    std::unique_ptr<Process> m_process;
    std::string m_url;
};

} // namespace lethe::test
