#pragma once

#include "support/process.hpp"

#include <chrono>
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

    explicit Sandbox(std::vector<std::string> flags = {}) {
        std::vector<std::string> argv = {sandbox_bin(), "--listen", "127.0.0.1:0", "--site-id",
                                         k_site_id};
        argv.insert(argv.end(), flags.begin(), flags.end());
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

    const std::string& url() const { return m_url; }
    Process& process() { return *m_process; }

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
