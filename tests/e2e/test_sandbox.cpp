// End-to-end tests of lethe-sandbox: the real binary on 127.0.0.1, driven with httplib.
#include "support/process.hpp"
#include "support/tempdir.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <csignal>
#include <httplib.h>
#include <memory>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace lethe::test;
using nlohmann::json;

namespace {

constexpr const char* k_site = "site-e2e";
constexpr const char* k_key = "sk_sandbox_e2e_0123456789";

// Percent-encodes every byte outside A-Z a-z 0-9 - . _ ~, as lethe's client does.
std::string encode(const std::string& id) {
    static const char* k_hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : id) {
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += {'%', k_hex[c >> 4], k_hex[c & 15]};
        }
    }
    return out;
}

std::string customer(const std::string& id, const std::string& suffix = "") {
    return "/api/v1/customers/" + encode(id) + suffix;
}

// The default workspace's part of GET /_sandbox/state.
const json& default_ws(const json& state) {
    return state["workspaces"]["default"];
}

std::size_t profile_count(const json& state) {
    return default_ws(state)["profile_count"].get<std::size_t>();
}

// The blocked identifiers' values, in the state's order.
json blocked_values(const json& state) {
    json out = json::array();
    for (const auto& b : default_ws(state)["blocked"]) {
        out.push_back(b["value"]);
    }
    return out;
}

// The live profile whose `field` is `value`, or null.
json profile_with(const json& state, const std::string& field, const std::string& value) {
    for (const auto& p : default_ws(state)["profiles"]) {
        if (p[field] == value) {
            return p;
        }
    }
    return nullptr;
}

// Sends `request` over a fresh TCP connection and returns everything the server writes until
// it closes. (httplib's client percent-decodes header values, so raw bytes need a raw socket.)
std::string raw_exchange(int port, const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
    std::string reply;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return reply;
}

// A lethe-sandbox child process on a random port (a name of its own: tests/e2e has a
// lethe::test::Sandbox fixture for the worker tests).
class SandboxProcess {
public:
    explicit SandboxProcess(std::vector<std::string> flags = {}, ProcessOptions opts = {}) {
        std::vector<std::string> argv = {sandbox_bin(), "--listen", "127.0.0.1:0", "--site-id",
                                         k_site};
        argv.insert(argv.end(), flags.begin(), flags.end());
        if (opts.env.count("LETHE_SANDBOX_API_KEY") == 0) {
            opts.env["LETHE_SANDBOX_API_KEY"] = k_key;
        }
        m_process = std::make_unique<Process>(argv, opts);
        const std::regex line("^lethe-sandbox listening on (https?)://127\\.0\\.0\\.1:([0-9]+)\n");
        for (int i = 0; i < 500; ++i) {
            std::smatch m;
            std::string out = m_process->stdout_so_far();
            if (std::regex_search(out, m, line)) {
                m_scheme = m[1];
                m_port = std::stoi(m[2]);
                return;
            }
            if (auto done = m_process->wait_for(std::chrono::milliseconds(10))) {
                FAIL("lethe-sandbox exited: " << done->err);
            }
        }
        FAIL("lethe-sandbox did not print its address: " << m_process->stderr_so_far());
    }

    std::string url() const { return m_scheme + "://127.0.0.1:" + std::to_string(m_port); }
    int port() const { return m_port; }
    Process& process() { return *m_process; }

    // A plain-HTTP client, with the sandbox's credentials unless `auth` is false.
    std::unique_ptr<httplib::Client> client(bool auth = true) const {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", m_port);
        c->set_url_encode(false);
        if (auth) {
            c->set_basic_auth(k_site, k_key);
        }
        return c;
    }

    json state(const std::string& query = "") const {
        auto res = client(false)->Get(("/_sandbox/state" + query).c_str());
        REQUIRE(res);
        REQUIRE(res->status == 200);
        return json::parse(res->body);
    }

    httplib::Result admin(const std::string& path, const json& body) const {
        return client(false)->Post(path.c_str(), body.dump(), "application/json");
    }

private:
    std::unique_ptr<Process> m_process;
    std::string m_scheme;
    int m_port = 0;
};

int status_of(const httplib::Result& res) {
    return res ? res->status : -1;
}

// The log entries of one identifier, in log order.
std::vector<json> entries_for(const json& state, const std::string& id) {
    std::vector<json> out;
    for (const auto& e : state["log"]) {
        if (e["identifier"] == id) {
            out.push_back(e);
        }
    }
    return out;
}

} // namespace

TEST_CASE("sandbox: API calls need Basic auth with the configured credentials", "[sandbox]") {
    SandboxProcess sb;
    auto anonymous = sb.client(false);
    auto res = anonymous->Post(customer("x", "/suppress").c_str(), "", "application/json");
    REQUIRE(status_of(res) == 401);
    CHECK(json::parse(res->body) == json::parse(R"({"meta":{"error":"Unauthorized request"}})"));

    auto wrong = sb.client(false);
    wrong->set_basic_auth(k_site, "sk_wrong");
    CHECK(status_of(wrong->Get("/api/v1/accounts/region")) == 401);
    wrong->set_basic_auth("other-site", k_key);
    CHECK(status_of(wrong->Get("/api/v1/accounts/region")) == 401);
    CHECK(status_of(sb.client()->Get("/api/v1/accounts/region")) == 200);

    auto log = sb.state()["log"];
    REQUIRE(log.size() == 4);
    CHECK(log[0]["auth_present"] == false);
    CHECK(log[1]["auth_present"] == true);
    CHECK(log[1]["auth_valid"] == false);
    CHECK(log[3]["auth_valid"] == true);
    CHECK(profile_count(sb.state()) == 0); // nothing changed by the refused calls
}

TEST_CASE("sandbox: suppress then destroy, logged in order with decoded identifiers", "[sandbox]") {
    SandboxProcess sb;
    auto c = sb.client();
    const std::string id = "a/b@c.com+x y%?#";
    REQUIRE(status_of(c->Put(customer(id).c_str(), R"({"plan":"pro"})", "application/json")) ==
            200);
    CHECK(profile_with(sb.state(), "id", id)["attributes"]["plan"] == "pro");

    auto suppressed = c->Post(customer(id, "/suppress").c_str(), "", "application/json");
    REQUIRE(status_of(suppressed) == 200);
    CHECK(suppressed->body == "{}");
    auto destroyed = c->Delete(customer(id).c_str());
    REQUIRE(status_of(destroyed) == 200);
    CHECK(destroyed->body == "{}");

    auto state = sb.state();
    auto log = entries_for(state, id);
    REQUIRE(log.size() == 3);
    CHECK(log[0]["call"] == "identify");
    CHECK(log[1]["call"] == "suppress");
    CHECK(log[1]["status"] == 200);
    CHECK(log[1]["method"] == "POST");
    CHECK(log[2]["call"] == "destroy");
    CHECK(log[2]["method"] == "DELETE");
    CHECK(log[1]["seq"].get<int>() < log[2]["seq"].get<int>());
    CHECK(profile_count(state) == 0);
    CHECK(blocked_values(state) == json::array({id}));
    CHECK(state["counters"]["by_call"]["suppress"] == 1);

    // A client that forgets to encode '/' names another path, as with Customer.io.
    CHECK(status_of(c->Post("/api/v1/customers/a/b/suppress", "", "application/json")) == 404);
}

TEST_CASE("sandbox: identify after suppress is accepted but ignored", "[sandbox]") {
    SandboxProcess sb;
    auto c = sb.client();
    REQUIRE(status_of(c->Post(customer("gone@example.com", "/suppress").c_str(), "",
                              "application/json")) == 200);
    REQUIRE(status_of(c->Put(customer("gone@example.com").c_str(), "{}", "application/json")) ==
            200);
    auto state = sb.state();
    CHECK(profile_count(state) == 0);
    CHECK(entries_for(state, "gone@example.com").back()["applied"] == false);

    REQUIRE(status_of(c->Post(customer("gone@example.com", "/unsuppress").c_str(), "",
                              "application/json")) == 200);
    REQUIRE(status_of(c->Put(customer("gone@example.com").c_str(), "{}", "application/json")) ==
            200);
    CHECK_FALSE(profile_with(sb.state(), "email", "gone@example.com").is_null());
}

TEST_CASE("sandbox: region endpoint reports region, environment and URL", "[sandbox]") {
    SandboxProcess sb({"--region", "eu", "--environment-id", "4242"});
    auto res = sb.client()->Get("/api/v1/accounts/region");
    REQUIRE(status_of(res) == 200);
    auto body = json::parse(res->body);
    CHECK(body["region"] == "eu");
    CHECK(body["environment_id"] == 4242);
    CHECK(body["url"] == sb.url());
}

TEST_CASE("sandbox: identifiers over 150 bytes and bad encodings get 400", "[sandbox]") {
    SandboxProcess sb;
    auto c = sb.client();
    CHECK(status_of(c->Post(customer(std::string(150, 'x'), "/suppress").c_str(), "",
                            "application/json")) == 200);
    auto res =
        c->Post(customer(std::string(151, 'x'), "/suppress").c_str(), "", "application/json");
    REQUIRE(status_of(res) == 400);
    CHECK(json::parse(res->body)["meta"].contains("error"));
    CHECK(status_of(c->Delete("/api/v1/customers/bad%zz")) == 400);
}

TEST_CASE("sandbox: destroy of an unknown person is 200, or 404 when asked", "[sandbox]") {
    SandboxProcess plain;
    CHECK(status_of(plain.client()->Delete(customer("nobody").c_str())) == 200);
    SandboxProcess strict({"--destroy-missing-404"});
    auto c = strict.client();
    CHECK(status_of(c->Delete(customer("nobody").c_str())) == 404);
    REQUIRE(strict.admin("/_sandbox/people", {{"people", {"somebody"}}})->status == 200);
    CHECK(status_of(c->Delete(customer("somebody").c_str())) == 200);
}

TEST_CASE("sandbox: --status-for answers a fixed status for matching identifiers", "[sandbox]") {
    SandboxProcess sb({"--status-for", "perm-fail=400", "--status-for", "gone=410"});
    auto c = sb.client();
    auto res = c->Post(customer("user-perm-fail-1", "/suppress").c_str(), "", "application/json");
    REQUIRE(status_of(res) == 400);
    CHECK(json::parse(res->body)["meta"]["errors"].is_array());
    CHECK(status_of(c->Delete(customer("is-gone").c_str())) == 410);
    CHECK(status_of(c->Post(customer("fine", "/suppress").c_str(), "", "application/json")) == 200);
    auto state = sb.state();
    CHECK(state["counters"]["by_fault"]["status_for"] == 2);
    CHECK(blocked_values(state) == json::array({"fine"}));
}

TEST_CASE("sandbox: 429 with Retry-After in seconds or as a date; admin routes unaffected",
          "[sandbox]") {
    SandboxProcess sb({"--rate-429", "1.0", "--retry-after", "7"});
    auto c = sb.client();
    for (int i = 0; i < 5; ++i) {
        auto res =
            c->Post(customer("u" + std::to_string(i), "/suppress").c_str(), "", "application/json");
        REQUIRE(status_of(res) == 429);
        CHECK(res->get_header_value("Retry-After") == "7");
    }
    CHECK(sb.state()["counters"]["by_fault"]["429"] == 5);
    CHECK(blocked_values(sb.state()).empty());

    REQUIRE(sb.admin("/_sandbox/faults", {{"retry_after_date", true}})->status == 200);
    auto res = c->Get("/api/v1/accounts/region");
    REQUIRE(status_of(res) == 429);
    CHECK(std::regex_match(res->get_header_value("Retry-After"),
                           std::regex("[A-Z][a-z]{2}, \\d\\d [A-Z][a-z]{2} \\d{4} "
                                      "\\d\\d:\\d\\d:\\d\\d GMT")));

    REQUIRE(sb.admin("/_sandbox/faults", {{"retry_after", nullptr}})->status == 200);
    res = c->Get("/api/v1/accounts/region");
    REQUIRE(status_of(res) == 429);
    CHECK_FALSE(res->has_header("Retry-After"));

    REQUIRE(sb.admin("/_sandbox/faults", {{"rate_429", 0}})->status == 200);
    CHECK(status_of(c->Get("/api/v1/accounts/region")) == 200);
}

TEST_CASE("sandbox: bad fault settings are refused and change nothing", "[sandbox]") {
    SandboxProcess sb({"--rate-500", "0.5"});
    CHECK(sb.admin("/_sandbox/faults", {{"rate_503", 0.8}})->status == 400);
    CHECK(sb.admin("/_sandbox/faults", {{"rate_five_hundred", 0.1}})->status == 400);
    CHECK(sb.admin("/_sandbox/faults", {{"status_for", {"x=200"}}})->status == 400);
    auto faults = sb.state()["faults"];
    CHECK(faults["rate_500"] == 0.5);
    CHECK(faults["rate_503"] == 0.0);
}

TEST_CASE("sandbox: --seed makes the fault sequence reproducible", "[sandbox]") {
    auto statuses = [] {
        SandboxProcess sb({"--seed", "7", "--rate-500", "0.3", "--rate-503", "0.3"});
        auto c = sb.client();
        std::vector<int> out;
        for (int i = 0; i < 30; ++i) {
            out.push_back(status_of(c->Get("/api/v1/accounts/region")));
        }
        return out;
    };
    auto first = statuses();
    CHECK(first == statuses());
    CHECK(std::count(first.begin(), first.end(), 200) > 0);
    CHECK(std::count(first.begin(), first.end(), 200) < 30);
}

TEST_CASE("sandbox: added latency does not serialise concurrent calls", "[sandbox]") {
    SandboxProcess sb({"--latency-ms", "500"});
    constexpr int k_calls = 8;
    std::atomic<int> ok{0};
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < k_calls; ++i) {
        threads.emplace_back([&sb, &ok, i] {
            auto res = sb.client()->Post(customer("p" + std::to_string(i), "/suppress").c_str(), "",
                                         "application/json");
            ok += status_of(res) == 200 ? 1 : 0;
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    CHECK(ok == k_calls);
    CHECK(elapsed.count() >= 500);
    // Serialised would be 4000 ms; the margin absorbs a loaded 2-core CI machine.
    CHECK(elapsed.count() < 2500);
    // Keep the state alive: a range-for over a member of a temporary would read freed memory.
    const nlohmann::json state = sb.state();
    for (const auto& e : state["log"]) {
        CHECK(e["latency_ms"].get<int>() >= 500);
    }
}

TEST_CASE("sandbox: resets drop the connection after the call took effect", "[sandbox]") {
    SandboxProcess sb({"--rate-reset", "1"});
    auto res = sb.client()->Post(customer("r1", "/suppress").c_str(), "", "application/json");
    CHECK_FALSE(res); // a transport error, not an HTTP status
    auto state = sb.state();
    CHECK(blocked_values(state) == json::array({"r1"}));
    CHECK(state["log"][0]["status"] == 0);
    CHECK(state["log"][0]["fault"] == "reset");
    CHECK(state["log"][0]["applied"] == true);
}

TEST_CASE("sandbox: hangs outlast the client's timeout and change nothing", "[sandbox]") {
    SandboxProcess sb({"--hang-rate", "1", "--hang-ms", "800"});
    auto c = sb.client();
    c->set_read_timeout(0, 200'000);
    auto start = std::chrono::steady_clock::now();
    auto res = c->Post(customer("h1", "/suppress").c_str(), "", "application/json");
    CHECK_FALSE(res);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(700));
    auto state = sb.state();
    CHECK(blocked_values(state).empty());
    CHECK(state["log"][0]["fault"] == "hang");
    CHECK(state["log"][0]["status"] == 0);
}

TEST_CASE("sandbox: --redirect-to answers 307 to URL + original path", "[sandbox]") {
    SandboxProcess sb({"--redirect-to", "http://127.0.0.2:9/"});
    const std::string reply =
        raw_exchange(sb.port(), "POST " + customer("a b", "/suppress") +
                                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                                    "Connection: close\r\n\r\n");
    INFO(reply);
    CHECK(reply.rfind("HTTP/1.1 307 ", 0) == 0);
    CHECK(reply.find("\r\nLocation: http://127.0.0.2:9/api/v1/customers/a%20b/suppress\r\n") !=
          std::string::npos);
    CHECK(sb.state()["log"][0]["fault"] == "redirect");
}

TEST_CASE("sandbox: credentials rotate through the admin endpoint", "[sandbox]") {
    SandboxProcess sb;
    auto with_key = [&sb](const std::string& key) {
        auto c = sb.client(false);
        c->set_basic_auth(k_site, key);
        return status_of(c->Get("/api/v1/accounts/region"));
    };
    REQUIRE(with_key(k_key) == 200);
    CHECK(with_key("sk_new") == 401);

    auto res = sb.admin("/_sandbox/credentials",
                        {{"site_id", k_site}, {"api_key", "sk_new"}, {"also_accept", {k_key}}});
    REQUIRE(status_of(res) == 200);
    CHECK(res->body.find(k_key) == std::string::npos); // keys are never echoed
    CHECK(with_key(k_key) == 200);
    CHECK(with_key("sk_new") == 200);

    REQUIRE(status_of(sb.admin("/_sandbox/credentials",
                               {{"site_id", k_site}, {"api_key", "sk_new"}})) == 200);
    CHECK(with_key(k_key) == 401);
    CHECK(with_key("sk_new") == 200);
    CHECK(sb.state().dump().find("sk_new") == std::string::npos);
}

TEST_CASE("sandbox: the API key can come from a file, never from an argument", "[sandbox]") {
    TempDir dir;
    write_text(dir / "key", "sk_from_file\n");
    ProcessOptions opts;
    opts.env["LETHE_SANDBOX_API_KEY"] = "sk_from_env";
    SandboxProcess sb({"--api-key-file", (dir / "key").string()}, opts);
    auto c = sb.client(false);
    c->set_basic_auth(k_site, "sk_from_file");
    CHECK(status_of(c->Get("/api/v1/accounts/region")) == 200);

    auto refused = run({sandbox_bin(), "--site-id", k_site, "--api-key", "sk_visible"}, {},
                       std::chrono::seconds(10));
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("--api-key-file") != std::string::npos);

    ProcessOptions no_key;
    no_key.unset_env = {"LETHE_SANDBOX_API_KEY"};
    auto missing = run({sandbox_bin(), "--site-id", k_site}, no_key, std::chrono::seconds(10));
    CHECK(missing.exit_code == 2);
}

TEST_CASE("sandbox: non-loopback addresses need --allow-non-loopback", "[sandbox]") {
    ProcessOptions opts;
    opts.env["LETHE_SANDBOX_API_KEY"] = k_key;
    auto r = run({sandbox_bin(), "--site-id", k_site, "--listen", "0.0.0.0:0"}, opts,
                 std::chrono::seconds(10));
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("loopback") != std::string::npos);
    CHECK(r.out.empty());
}

TEST_CASE("sandbox: seeding people and reset", "[sandbox]") {
    SandboxProcess sb;
    auto res = sb.admin("/_sandbox/people",
                        {{"people", {"p1", {{"id", "p2"}, {"attributes", {{"email", "p2@x"}}}}}}});
    REQUIRE(status_of(res) == 200);
    CHECK(json::parse(res->body)["added"] == 2);
    auto state = sb.state();
    CHECK(profile_with(state, "id", "p2")["attributes"]["email"] == "p2@x");
    CHECK(status_of(sb.admin("/_sandbox/people", {{"people", 3}})) == 400);

    REQUIRE(status_of(sb.client()->Delete(customer("p1").c_str())) == 200);
    REQUIRE(status_of(sb.admin("/_sandbox/reset", json::object())) == 200);
    state = sb.state();
    CHECK(profile_count(state) == 0);
    CHECK(state["log"].empty());
    CHECK(state["counters"]["requests"] == 0);
    CHECK(sb.state("?log=0&people=0").contains("log") == false);
}

TEST_CASE("sandbox: --log names calls by a short hash, never the key or identifier", "[sandbox]") {
    SandboxProcess sb({"--log"});
    REQUIRE(status_of(sb.client()->Post(customer("secret-person@example.com", "/suppress").c_str(),
                                        "", "application/json")) == 200);
    sb.process().signal(SIGTERM);
    auto r = sb.process().wait(std::chrono::seconds(5));
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("suppress") != std::string::npos);
    CHECK(r.err.find("secret-person") == std::string::npos);
    CHECK(r.err.find(k_key) == std::string::npos);
}

TEST_CASE("sandbox: HTTPS with a self-signed certificate", "[sandbox]") {
    TempDir dir;
    auto cert = (dir / "c.pem").string();
    auto key = (dir / "k.pem").string();
    auto made = run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-addext",
                     "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "2", "-keyout", key,
                     "-out", cert},
                    {}, std::chrono::seconds(20));
    REQUIRE(made.exit_code == 0);

    SandboxProcess sb({"--tls-cert", cert, "--tls-key", key});
    CHECK(sb.url().rfind("https://", 0) == 0);
    httplib::SSLClient c("127.0.0.1", sb.port());
    c.set_ca_cert_path(cert.c_str());
    c.enable_server_certificate_verification(true);
    c.set_basic_auth(k_site, k_key);
    auto res = c.Get("/api/v1/accounts/region");
    REQUIRE(status_of(res) == 200);
    CHECK(json::parse(res->body)["url"] == sb.url());

    httplib::SSLClient untrusting("127.0.0.1", sb.port());
    untrusting.enable_server_certificate_verification(true);
    CHECK_FALSE(untrusting.Get("/api/v1/accounts/region"));
}

TEST_CASE("sandbox: SIGTERM exits 0 promptly, even during a hang", "[sandbox]") {
    SandboxProcess sb({"--hang-rate", "1"}); // default hang: 30 s
    std::thread caller([&sb] {
        auto c = sb.client();
        c->set_read_timeout(10, 0);
        c->Post(customer("x", "/suppress").c_str(), "", "application/json");
    });
    for (int i = 0; i < 200 && sb.state()["log"].empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto start = std::chrono::steady_clock::now();
    sb.process().signal(SIGTERM);
    auto r = sb.process().wait(std::chrono::seconds(10));
    caller.join();
    CHECK(r.exit_code == 0);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}
