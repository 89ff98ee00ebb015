#include "../callback/receiver.hpp"
#include "../net/local_server.hpp"
#include "sandbox_fixture.hpp"
#include "serve_fixture.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/stat.h>
#include <thread>

using namespace lethe::test;
using nlohmann::json;

namespace {

const std::string k_portal_secret = "portal-secret-e2e-0123456789abcdef";
const std::string k_form_secret = "form-secret-e2e-0123456789abcdef";
const std::string k_auditor_secret = "auditor-secret-e2e-0123456789abcdef";

void write_secret(const std::filesystem::path& path, const std::string& content) {
    write_text(path, content);
    ::chmod(path.c_str(), 0600);
}

// `lethe serve` with three senders: portal (submit, read), form (submit), auditor (read).
struct SendersServe {
    TempDir secrets;
    std::unique_ptr<ServeFixture> serve;

    SendersServe() {
        write_secret(secrets / "portal", k_portal_secret + "\n");
        write_secret(secrets / "form", k_form_secret + "\n");
        write_secret(secrets / "auditor", k_auditor_secret + "\n");
        const std::string dir = secrets.path().string();
        serve = std::make_unique<ServeFixture>(
            ServeFixture::OwnIntake{"[intake]\nlisten = \"127.0.0.1:0\"\n"
                                    "[[intake.sender]]\nname = \"portal\"\nsecret_file = \"" +
                                    dir +
                                    "/portal\"\n"
                                    "scopes = [\"submit\", \"read\"]\n"
                                    "[[intake.sender]]\nname = \"form\"\nsecret_file = \"" +
                                    dir +
                                    "/form\"\n"
                                    "scopes = [\"submit\"]\n"
                                    "[[intake.sender]]\nname = \"auditor\"\nsecret_file = \"" +
                                    dir +
                                    "/auditor\"\n"
                                    "scopes = [\"read\"]\n"});
    }

    httplib::Result get(const std::string& path, const std::string& secret) const {
        const std::string ts = std::to_string(std::time(nullptr));
        const std::string sig =
            lethe::serve::sign_request(secret, ts, lethe::serve::query_signed_body("GET", path));
        return serve->client().Get(path, {{lethe::serve::k_timestamp_header, ts},
                                          {lethe::serve::k_signature_header, sig}});
    }
};

std::string body_for(const std::string& request_id, const std::string& identifier) {
    return R"({"request_id":")" + request_id + R"(","identifier":")" + identifier + "\"}";
}

} // namespace

TEST_CASE("senders: each request records its sender, who alone can read it",
          "[e2e][serve][senders]") {
    SendersServe s;
    auto r = s.serve->post(body_for("DSR 1/a", "jane@example.com"), k_portal_secret);
    REQUIRE(r);
    CHECK(r->status == 201);
    r = s.serve->post(body_for("FORM-1", "joe@example.com"), k_form_secret);
    REQUIRE(r);
    CHECK(r->status == 201);
    // The auditor may not submit; a form's duplicate of the portal's request_id is refused.
    r = s.serve->post(body_for("AUD-1", "ann@example.com"), k_auditor_secret);
    REQUIRE(r);
    CHECK(r->status == 403);
    r = s.serve->post(body_for("DSR 1/a", "jane@example.com"), k_form_secret);
    REQUIRE(r);
    CHECK(r->status == 409);
    CHECK(r->body.find("jane") == std::string::npos);

    {
        SQLite::Database db(s.serve->cli.db_path().string(), SQLite::OPEN_READONLY);
        CHECK(
            db.execAndGet("SELECT sender FROM requests WHERE request_id = 'DSR 1/a'").getString() ==
            "portal");
        CHECK(db.execAndGet("SELECT count(*) FROM audit_log WHERE event = 'request.received' AND "
                            "json_extract(detail, '$.sender') IN ('portal', 'form')")
                  .getInt() == 2);
        CHECK(db.execAndGet("SELECT count(*) FROM requests").getInt() == 2);
    }

    // The path is signed as sent, percent-encoded.
    const std::string path = "/v1/erasure-requests/DSR%201%2Fa";
    r = s.get(path, k_portal_secret);
    REQUIRE(r);
    CHECK(r->status == 200);
    const json body = json::parse(r->body);
    CHECK(body["request_id"] == "DSR 1/a");
    CHECK(body["state"] == "pending");
    CHECK(body["verified"].is_null());
    CHECK(body["finished_at"].is_null());
    CHECK(body["workspaces"].is_array());
    CHECK(r->body.find("jane") == std::string::npos);
    CHECK(r->body.find("digest") == std::string::npos);

    // The form cannot read (403); the auditor can read but not the portal's request (404, the
    // same answer as an unknown request_id).
    r = s.get(path, k_form_secret);
    REQUIRE(r);
    CHECK(r->status == 403);
    auto other = s.get(path, k_auditor_secret);
    auto unknown = s.get("/v1/erasure-requests/NOPE", k_portal_secret);
    REQUIRE(other);
    REQUIRE(unknown);
    CHECK(other->status == 404);
    CHECK(unknown->status == 404);
    CHECK(other->body == unknown->body);

    // Unsigned, or signed for another path, or replayed after the window: 401.
    auto unsigned_get = s.serve->client().Get(path);
    REQUIRE(unsigned_get);
    CHECK(unsigned_get->status == 401);
    const std::string old_ts = std::to_string(std::time(nullptr) - 400);
    auto replayed = s.serve->client().Get(
        path, {{lethe::serve::k_timestamp_header, old_ts},
               {lethe::serve::k_signature_header,
                lethe::serve::sign_request(k_portal_secret, old_ts,
                                           lethe::serve::query_signed_body("GET", path))}});
    REQUIRE(replayed);
    CHECK(replayed->status == 401);
    // A query recorded and replayed inside the window: answered once, then refused.
    const std::string ts = std::to_string(std::time(nullptr) + 1); // not the earlier queries'
    const httplib::Headers recorded{
        {lethe::serve::k_timestamp_header, ts},
        {lethe::serve::k_signature_header,
         lethe::serve::sign_request(k_portal_secret, ts,
                                    lethe::serve::query_signed_body("GET", path))}};
    auto first = s.serve->client().Get(path, recorded);
    auto again = s.serve->client().Get(path, recorded);
    REQUIRE(first);
    REQUIRE(again);
    CHECK(first->status == 200);
    CHECK(again->status == 401);
    CHECK(json::parse(again->body)["reason"] ==
          "this signature was answered already (a replayed query); sign the query again in a "
          "later second");
    // `config show` lists the senders with their secrets masked.
    auto shown = s.serve->cli.lethe({"config", "show"});
    CHECK(shown.exit_code == 0);
    CHECK(shown.out.find("[[intake.sender]]\nname = \"portal\"\nscopes = [\"submit\", "
                         "\"read\"]") != std::string::npos);
    CHECK(shown.out.find("scopes = [\"read\"]") != std::string::npos);
    CHECK(shown.out.find(k_portal_secret) == std::string::npos);
    CHECK(shown.out.find("<set, 1 key, from file ") != std::string::npos);
    // Another method on a status path.
    auto del = s.serve->client().Delete(path);
    REQUIRE(del);
    CHECK(del->status == 405);
    CHECK(s.serve->stop().exit_code == 0);
}

TEST_CASE("callbacks: pending callbacks survive kill -9 and are delivered once, in order",
          "[e2e][serve][senders][callback]") {
    TempDir secrets;
    write_secret(secrets / "portal", k_portal_secret + "\n");
    const int port = closed_port();
    CallbackReceiver receiver(port, k_portal_secret); // down for now
    const std::string config = "[intake]\nlisten = \"127.0.0.1:0\"\n[[intake.sender]]\nname = "
                               "\"portal\"\nsecret_file = \"" +
                               (secrets / "portal").string() +
                               "\"\nscopes = [\"submit\", \"read\"]\ncallback_url = \"" +
                               receiver.url() + "\"\nallow_insecure_loopback = true\n";
    ServeFixture serve(ServeFixture::OwnIntake{config});
    for (const char* id : {"CB-1", "CB-2"}) {
        auto r = serve.post(body_for(id, std::string(id) + "@example.com"), k_portal_secret);
        REQUIRE(r);
        REQUIRE(r->status == 201);
    }
    for (const char* id : {"CB-2", "CB-1"}) {
        auto c = serve.cli.lethe({"cancel", id, "--reason", "withdrawn by the portal"});
        REQUIRE(c.exit_code == 0);
    }
    // Killed with the callbacks pending (its first attempts met a closed port, or none was
    // made yet).
    serve.process->signal(SIGKILL);
    serve.process->wait(std::chrono::seconds(10));
    auto listed = serve.cli.lethe({"callbacks", "--json"});
    REQUIRE(listed.exit_code == 0);
    std::vector<json> pending;
    std::istringstream lines(listed.out);
    for (std::string line; std::getline(lines, line);) {
        pending.push_back(json::parse(line));
    }
    REQUIRE(pending.size() == 2);
    CHECK(pending[0]["request_id"] == "CB-2"); // cancelled first
    CHECK(pending[0]["status"] == "pending");
    CHECK(pending[0]["state"] == "cancelled");

    // The receiver comes up and lethe serve starts again: each event arrives, once.
    receiver.start();
    serve.url.clear();
    serve.start({}, {});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (receiver.effects().size() < 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const auto effects = receiver.effects();
    REQUIRE(effects.size() == 2);
    CHECK(effects[0] == pending[0]["event_id"]);
    CHECK(effects[1] == pending[1]["event_id"]);
    for (const auto& d : receiver.deliveries()) {
        CHECK(d.signature_ok);
        CHECK(d.body.find("@example.com") == std::string::npos);
    }
    // The receiver applies an event before lethe records its answer: wait for the record.
    const auto recorded = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto after = serve.cli.lethe({"callbacks"});
    while (after.out.find("CB-") != std::string::npos &&
           std::chrono::steady_clock::now() < recorded) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        after = serve.cli.lethe({"callbacks"});
    }
    REQUIRE(after.exit_code == 0);
    CHECK(after.out.find("CB-") == std::string::npos); // nothing left to deliver
    CHECK(serve.stop().exit_code == 0);
    auto verify = serve.cli.lethe({"audit", "verify"});
    CHECK(verify.exit_code == 0);
    SQLite::Database db(serve.cli.db_path().string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM audit_log WHERE event = 'callback.delivered'")
              .getInt() == 2);
}

namespace {

// The Python receiver of docs/intake.md, with its secret file and port replaced.
std::string doc_receiver(const std::filesystem::path& secret, int port) {
    const std::string doc = read_text(source_root() / "docs" / "intake.md");
    const auto heading = doc.find("### A receiver that checks the signature (Python)");
    REQUIRE(heading != std::string::npos);
    const auto start = doc.find("```python\n", heading);
    REQUIRE(start != std::string::npos);
    const auto end = doc.find("```\n", start + 10);
    std::string code = doc.substr(start + 10, end - start - 10);
    auto replace = [&](const std::string& from, const std::string& to) {
        const auto at = code.find(from);
        REQUIRE(at != std::string::npos);
        code.replace(at, from.size(), to);
    };
    replace("/etc/portal/lethe.secret", secret.string());
    replace("9000", std::to_string(port));
    return code;
}

} // namespace

TEST_CASE("callbacks: the receiver of docs/intake.md accepts lethe's callbacks and refuses "
          "forgeries",
          "[e2e][serve][senders][callback][doc]") {
    TempDir secrets;
    write_secret(secrets / "portal", k_portal_secret + "\n");
    const int port = closed_port();
    write_text(secrets / "receiver.py", doc_receiver(secrets / "portal", port));
    Process receiver({"/usr/bin/python3", "-u", (secrets / "receiver.py").string()});
    httplib::Client probe("127.0.0.1", port);
    for (int i = 0; i < 200 && !probe.Get("/"); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    // A forged callback: refused, and not applied.
    auto forged =
        probe.Post("/",
                   {{"X-Lethe-Timestamp", std::to_string(std::time(nullptr))},
                    {"X-Lethe-Signature", std::string(64, 'a')}},
                   R"({"event_id":"x","request_id":"FORGED","state":"done"})", "application/json");
    REQUIRE(forged);
    CHECK(forged->status == 401);

    const std::string config =
        "[intake]\nlisten = \"127.0.0.1:0\"\n[[intake.sender]]\nname = \"portal\"\nsecret_file = "
        "\"" +
        (secrets / "portal").string() + "\"\nscopes = [\"submit\"]\ncallback_url = \"http://" +
        "127.0.0.1:" + std::to_string(port) + "/lethe\"\nallow_insecure_loopback = true\n";
    ServeFixture serve(ServeFixture::OwnIntake{config});
    auto r = serve.post(body_for("DOC-1", "doc@example.com"), k_portal_secret);
    REQUIRE(r);
    REQUIRE(r->status == 201);
    REQUIRE(serve.cli.lethe({"cancel", "DOC-1", "--reason", "test"}).exit_code == 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (receiver.stdout_so_far().find("DOC-1") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(receiver.stdout_so_far() == "DOC-1 cancelled \n");
    CHECK(serve.stop().exit_code == 0);
    SQLite::Database db(serve.cli.db_path().string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM audit_log WHERE event = 'callback.delivered' AND "
                        "json_extract(detail, '$.status') = 204")
              .getInt() == 1);
    receiver.signal(SIGTERM);
}

TEST_CASE("callbacks: serve --with-worker erases a sender's request and calls it back",
          "[e2e][serve][senders][callback][worker]") {
    Sandbox sandbox;
    TempDir secrets;
    write_secret(secrets / "portal", k_portal_secret + "\n");
    CallbackReceiver receiver(closed_port(), k_portal_secret);
    receiver.start();
    ProcessOptions env;
    env.env["LETHE_TEST_TRACK_KEY"] = Sandbox::k_api_key;
    const std::string config =
        "[customerio]\ntrack_url = \"" + sandbox.url() +
        "\"\nallow_insecure_loopback = true\nsite_id = \"" + Sandbox::k_site_id +
        "\"\napi_key_env = \"LETHE_TEST_TRACK_KEY\"\n[worker]\npacing_ms = 0\npoll_interval_ms = "
        "20\n[intake]\nlisten = \"127.0.0.1:0\"\n[[intake.sender]]\nname = \"portal\"\n"
        "secret_file = \"" +
        (secrets / "portal").string() + "\"\nscopes = [\"submit\", \"read\"]\ncallback_url = \"" +
        receiver.url() + "\"\nallow_insecure_loopback = true\n";
    ServeFixture serve(ServeFixture::OwnIntake{config}, {"--with-worker"}, env);
    auto r = serve.post(body_for("W-CB-1", "cb-worker@example.com"), k_portal_secret);
    REQUIRE(r);
    REQUIRE(r->status == 201);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (receiver.effects().empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(receiver.effects().size() == 1);
    const json event = json::parse(receiver.deliveries().back().body);
    CHECK(event["type"] == "request.done");
    CHECK(event["request_id"] == "W-CB-1");
    CHECK(event["state"] == "done");
    CHECK(event["verified"] == false); // no App API key: unverified, and said so
    CHECK(event["workspaces"] ==
          json::array({{{"workspace", "default"}, {"state", "done"}, {"verified", false}}}));
    CHECK_FALSE(event["finished_at"].is_null());
    CHECK(receiver.deliveries().back().body.find("cb-worker") == std::string::npos);
    // The status query agrees.
    const std::string path = "/v1/erasure-requests/W-CB-1";
    const std::string ts = std::to_string(std::time(nullptr));
    auto status = serve.client().Get(
        path, {{lethe::serve::k_timestamp_header, ts},
               {lethe::serve::k_signature_header,
                lethe::serve::sign_request(k_portal_secret, ts,
                                           lethe::serve::query_signed_body("GET", path))}});
    REQUIRE(status);
    CHECK(json::parse(status->body)["state"] == "done");
    CHECK(serve.stop().exit_code == 0);
}

TEST_CASE("senders: SIGHUP applies a revoked scope from the configuration file; a broken file "
          "keeps the running senders",
          "[e2e][serve][senders]") {
    SendersServe s;
    auto r = s.serve->post(body_for("REV-1", "rev1@example.com"), k_portal_secret);
    REQUIRE(r);
    CHECK(r->status == 201);
    // Each poll asks for another id: a query repeated within a second would be a replay.
    int poll = 0;
    auto status_of_poll = [&] {
        auto got = s.get("/v1/erasure-requests/POLL-" + std::to_string(++poll), k_portal_secret);
        return got ? got->status : 0;
    };
    CHECK(status_of_poll() == 404); // may read: an unknown id
    const auto config = s.serve->cli.dir / "lethe.toml";
    std::string text = read_text(config);
    const std::string both = "scopes = [\"submit\", \"read\"]";
    REQUIRE(text.find(both) != std::string::npos);
    text.replace(text.find(both), both.size(), "scopes = [\"submit\"]");
    write_text(config, text);
    s.serve->process->signal(SIGHUP);
    bool revoked = false;
    for (int i = 0; i < 200 && !revoked; ++i) {
        revoked = status_of_poll() == 403;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(revoked);
    r = s.serve->post(body_for("REV-2", "rev2@example.com"), k_portal_secret);
    REQUIRE(r);
    CHECK(r->status == 201); // submit is kept
    // A file that no longer loads: logged, and the senders stay as they are.
    write_text(config, text + "\n[intake\n");
    s.serve->process->signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(status_of_poll() == 403);
    r = s.serve->post(body_for("REV-3", "rev3@example.com"), k_portal_secret);
    REQUIRE(r);
    CHECK(r->status == 201);
    auto done = s.serve->stop();
    CHECK(done.exit_code == 0);
    CHECK(done.err.find("the configuration could not be read again, keeping the running senders") !=
          std::string::npos);
    CHECK(done.err.find(k_portal_secret) == std::string::npos);
}
