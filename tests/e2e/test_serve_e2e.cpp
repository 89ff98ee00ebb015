#include "certificate.hpp"
#include "sandbox_fixture.hpp"
#include "serve_fixture.hpp"
#include "store/migrations.hpp"

#include <SQLiteCpp/Database.h>
#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

using namespace lethe::test;
using nlohmann::json;

namespace {

std::string body_for(const std::string& request_id, const std::string& identifier,
                     const std::string& extra = "") {
    return R"({"request_id":")" + request_id + R"(","identifier":")" + identifier + "\"" + extra +
           "}";
}

std::int64_t count(const CliFixture& f, const std::string& sql) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    return db.execAndGet(sql).getInt64();
}

json reply_json(const httplib::Result& r) {
    REQUIRE(r);
    return json::parse(r->body);
}

// The hex HMAC computed by openssl(1), an implementation independent of lethe's.
std::string openssl_signature(const std::string& secret, const std::string& message) {
    ProcessOptions o;
    o.stdin_data = message;
    auto r = run({"/usr/bin/openssl", "dgst", "-sha256", "-hmac", secret}, o);
    REQUIRE(r.exit_code == 0);
    auto eq = r.out.rfind("= ");
    REQUIRE(eq != std::string::npos);
    std::string hex = r.out.substr(eq + 2);
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) {
        hex.pop_back();
    }
    REQUIRE(hex.size() == 64);
    return hex;
}

std::string metric_line(const std::string& metrics, const std::string& name) {
    // The first sample of the metric, with or without labels.
    auto pos = metrics.find("\n" + name + " ");
    if (pos == std::string::npos) {
        pos = metrics.find("\n" + name + "{");
    }
    if (pos == std::string::npos) {
        return "(missing)";
    }
    auto end = metrics.find('\n', pos + 1);
    return metrics.substr(pos + 1, end - pos - 1);
}

} // namespace

TEST_CASE("serve: 201, 200, 409, 400, 401, 413, 404 and 405, each committed before the answer",
          "[e2e][serve]") {
    ServeFixture s;
    auto r = s.post(body_for("DSR-1", "jane@example.com", R"(,"received_at":"2026-01-05")"));
    REQUIRE(r);
    CHECK(r->status == 201);
    CHECK(reply_json(r) == json{{"status", "created"}, {"request_id", "DSR-1"}});
    // Committed before the answer: visible to another connection at once.
    CHECK(count(s.cli, "SELECT count(*) FROM requests WHERE request_id = 'DSR-1' AND source = "
                       "'http' AND state = 'pending'") == 1);
    CHECK(count(s.cli, "SELECT count(*) FROM audit_log WHERE event = 'request.received' AND "
                       "request_ref = 'DSR-1'") == 1);

    r = s.post(body_for("DSR-1", "jane@example.com", R"(,"received_at":"2026-01-05")"));
    CHECK(r->status == 200);
    CHECK(reply_json(r)["status"] == "known");

    r = s.post(body_for("DSR-1", "john@example.com"));
    CHECK(r->status == 409);
    CHECK(reply_json(r)["status"] == "conflict");

    r = s.post(body_for("DSR-2", "jane@example.com"));
    CHECK(r->status == 201);
    CHECK(reply_json(r)["linked_to"] == "DSR-1");

    r = s.post(body_for("DSR-3", "not-an-email@", R"(,"id_type":"email")"));
    CHECK(r->status == 400);
    CHECK(reply_json(r)["reason"] ==
          "identifier is typed email but is not an e-mail address: it has nothing after the '@'");
    CHECK(s.post("{not json")->status == 400);
    CHECK(s.post(body_for("DSR-4", "x", R"(,"priority":"high")"))->status == 400);

    CHECK(s.post(body_for("DSR-5", "a@example.com"), "wrong-secret")->status == 401);
    CHECK(s.post_raw(body_for("DSR-5", "a@example.com"), {})->status == 401);

    // 413 from the Content-Length alone, and from the handler's own check.
    std::string big =
        body_for("DSR-6", "b@example.com", ",\"id_type\":\"" + std::string(5000, ' ') + "email\"");
    r = s.post(big);
    CHECK(r->status == 413);
    CHECK(reply_json(r)["reason"] == "body is larger than 4096 bytes");

    auto c = s.client();
    r = c.Get("/v1/erasure-requests");
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == "POST");
    CHECK(c.Post("/metrics", "", "text/plain")->status == 405);
    CHECK(c.Get("/v2/nothing")->status == 404);
    CHECK(reply_json(c.Get("/v2/nothing"))["status"] == "not_found");

    // Two requests stored, with one audit entry each; nothing from the refused ones.
    auto listed = s.cli.lethe({"list"});
    CHECK(listed.out.find("DSR-1") != std::string::npos);
    CHECK(listed.out.find("DSR-2") != std::string::npos);
    CHECK(listed.out.find("DSR-3") == std::string::npos);
    CHECK(count(s.cli, "SELECT count(*) FROM requests") == 2);
    CHECK(count(s.cli, "SELECT count(*) FROM audit_log") == 2);

    auto done = s.stop();
    CHECK(done.exit_code == 0);
    // The log names requests and digests, never the identifier, the secret or a signature.
    CHECK(done.err.find("DSR-1") != std::string::npos);
    for (const char* secret :
         {"jane@example.com", "john@example.com", "not-an-email", ServeFixture::k_secret}) {
        INFO(secret);
        CHECK(done.err.find(secret) == std::string::npos);
        CHECK(done.out.find(secret) == std::string::npos);
    }
    CHECK(s.cli.lethe({"audit", "verify"}).exit_code == 0);
}

TEST_CASE("serve: signatures from openssl(1) and from `lethe sign` are accepted", "[e2e][serve]") {
    ServeFixture s;
    const std::string body = body_for("OSSL-1", "ossl@example.com");
    const std::string ts = std::to_string(std::time(nullptr));
    const std::string sig = openssl_signature(ServeFixture::k_secret, "v0:" + ts + ":" + body);
    auto r = s.post_raw(body, {{"X-Lethe-Timestamp", ts}, {"X-Lethe-Signature", sig}});
    REQUIRE(r);
    CHECK(r->status == 201);

    // One byte changed after signing: refused.
    std::string changed = body;
    changed[changed.size() - 3] = 'n';
    CHECK(s.post_raw(changed, {{"X-Lethe-Timestamp", ts}, {"X-Lethe-Signature", sig}})->status ==
          401);
    // Stale (correctly signed 10 minutes ago) and future timestamps: refused.
    for (long offset : {-600L, 600L}) {
        const std::string t = std::to_string(std::time(nullptr) + offset);
        auto refused = s.post_raw(
            body_for("OSSL-2", "o2@example.com"),
            {{"X-Lethe-Timestamp", t},
             {"X-Lethe-Signature",
              openssl_signature(ServeFixture::k_secret,
                                "v0:" + t + ":" + body_for("OSSL-2", "o2@example.com"))}});
        CHECK(refused->status == 401);
    }

    // `lethe sign` with the body on stdin, as docs/intake.md shows.
    const std::string signed_body = body_for("SIGN-1", "signed@example.com");
    auto headers =
        s.cli.lethe({"sign", "--secret-file", s.secret_path().string()}, signed_body, true);
    REQUIRE(headers.exit_code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(headers.out, m,
                              std::regex("^X-Lethe-Timestamp: ([0-9]+)\nX-Lethe-Signature: "
                                         "([0-9a-f]{64})\n$")));
    r = s.post_raw(signed_body, {{"X-Lethe-Timestamp", m[1]}, {"X-Lethe-Signature", m[2]}});
    CHECK(r->status == 201);
    // And `lethe sign --timestamp` agrees with openssl.
    s.cli.csv("body.json", signed_body);
    auto fixed = s.cli.lethe({"sign", "--secret-file", s.secret_path().string(), "--timestamp",
                              "1700000000", (s.cli.dir / "body.json").string()});
    CHECK(fixed.out ==
          "X-Lethe-Timestamp: 1700000000\nX-Lethe-Signature: " +
              openssl_signature(ServeFixture::k_secret, "v0:1700000000:" + signed_body) + "\n");
    CHECK(s.stop().exit_code == 0);
}

TEST_CASE("serve: SIGHUP re-reads the secret; two lines are both accepted during a rotation",
          "[e2e][serve]") {
    ServeFixture s;
    CHECK(s.post(body_for("ROT-1", "r1@example.com"), "next-secret-2")->status == 401);
    s.write_secret(std::string(ServeFixture::k_secret) + "\nnext-secret-2\n");
    s.process->signal(SIGHUP);
    bool accepted = false;
    for (int i = 0; i < 200 && !accepted; ++i) {
        accepted = s.post(body_for("ROT-2", "r2@example.com"), "next-secret-2")->status == 201;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(accepted);
    CHECK(s.post(body_for("ROT-3", "r3@example.com"))->status == 201);
    s.write_secret("next-secret-2\n");
    s.process->signal(SIGHUP);
    bool refused = false;
    for (int i = 0; i < 200 && !refused; ++i) {
        refused = s.post(body_for("ROT-4", "r4@example.com"))->status == 401;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(refused);
    // A broken secret file keeps the current secret.
    s.write_secret("");
    s.process->signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(s.post(body_for("ROT-5", "r5@example.com"), "next-secret-2")->status == 201);
    auto done = s.stop();
    CHECK(done.exit_code == 0);
    CHECK(done.err.find("next-secret-2") == std::string::npos);
}

TEST_CASE("serve: /healthz and /metrics", "[e2e][serve]") {
    ServeFixture s;
    for (int i = 0; i < 3; ++i) {
        REQUIRE(s.post(body_for("M-" + std::to_string(i), "m" + std::to_string(i) + "@example.com",
                                R"(,"received_at":"2026-01-01")"))
                    ->status == 201);
    }
    auto c = s.client();
    auto health = c.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    CHECK(json::parse(health->body) == json{{"status", "ok"}});

    auto metrics = c.Get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->status == 200);
    CHECK(metrics->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
    const std::string& text = metrics->body;
    for (const char* state : {"pending", "done", "dead", "cancelled"}) {
        INFO(state);
        CHECK(text.find("lethe_requests{state=\"" + std::string(state) + "\"} ") !=
              std::string::npos);
    }
    CHECK(text.find("lethe_requests{state=\"pending\"} 3\n") != std::string::npos);
    CHECK(metric_line(text, "lethe_audit_entries") == "lethe_audit_entries 3");
    // This intake has no workspace configured: its requests get their erasures from the worker's
    // next run (WorkerQueue::plan), so no workspace has a sample yet.
    CHECK(text.find("# TYPE lethe_erasures_total counter\n") != std::string::npos);
    CHECK(text.find("# TYPE lethe_retries_total counter\n") != std::string::npos);
    CHECK(text.find("lethe_workspace_erasures{") == std::string::npos);
    // Received 2026-01-01, so more than a month ago when the test runs after 2026-02-01.
    CHECK(metric_line(text, "lethe_overdue_requests") == "lethe_overdue_requests 3");
    CHECK(metric_line(text, "lethe_oldest_pending_seconds").size() > 30);
    CHECK(text.find("# TYPE lethe_api_calls_total counter") != std::string::npos);
    CHECK(text.find("@example.com") == std::string::npos);

    // A database whose schema is not the binary's: 503 with the reason.
    {
        SQLite::Database db(s.cli.db_path().string(), SQLite::OPEN_READWRITE);
        db.exec("PRAGMA user_version = 42");
    }
    health = c.Get("/healthz");
    CHECK(health->status == 503);
    CHECK(json::parse(health->body)["reason"] ==
          "database schema version 42, expected " +
              std::to_string(lethe::store::latest_schema_version()));
    CHECK(s.stop().exit_code == 0);
}

TEST_CASE("serve: SIGTERM during a burst exits 0 and every acknowledged request is stored",
          "[e2e][serve]") {
    ServeFixture s;
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::set<std::string> acknowledged;
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t) {
        senders.emplace_back([&, t] {
            for (int i = 0; !stop; ++i) {
                const std::string id = "TERM-" + std::to_string(t) + "-" + std::to_string(i);
                auto r = s.post(body_for(id, id + "@example.com"));
                if (!r) {
                    return; // the server has closed its socket
                }
                if (r->status == 201) {
                    std::lock_guard lock(mutex);
                    acknowledged.insert(id);
                }
            }
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    s.process->signal(SIGTERM);
    auto done = s.process->wait(std::chrono::seconds(30));
    stop = true;
    for (auto& th : senders) {
        th.join();
    }
    CHECK(done.exit_code == 0);
    REQUIRE(acknowledged.size() > 10);
    SQLite::Database db(s.cli.db_path().string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT count(*) FROM requests r JOIN audit_log a ON a.request_ref = "
                            "r.request_id AND a.event = 'request.received' WHERE r.request_id = ?");
    for (const auto& id : acknowledged) {
        q.reset();
        q.bind(1, id);
        q.executeStep();
        INFO(id);
        CHECK(q.getColumn(0).getInt() == 1);
    }
}

TEST_CASE("serve: malformed bodies get 4xx and never crash the server", "[e2e][serve]") {
    ServeFixture s;
    std::mt19937 rng(20261123);
    std::vector<std::string> bodies = {
        "",
        "{",
        R"({"request_id":"T","identifier":"a@example.com")",
        R"({"request_id":"T","identifier":"a@example.com",)",
        R"({"request_id":1e999999,"identifier":"x"})",
        R"({"request_id":123456789012345678901234567890123456789,"identifier":"x"})",
        R"({"request_id":-0.0000000001e-400,"identifier":"x"})",
        R"({"request_id":"T","identifier":true})",
        R"({"request_id":"T","identifier":[1,2,3]})",
        R"({"request_id":"T","identifier":{"a":{"b":{}}}})",
        R"([{"request_id":"T","identifier":"x"}])",
        std::string(4000, '[') + std::string(4000, ']'),
        R"({"request_id":"T","identifier":)" + std::string(4000, '{'),
        "{\"request_id\":\"T\",\"identifier\":\"\xc3\x28@example.com\"}",
        "{\"request_id\":\"\xed\xa0\x80\",\"identifier\":\"x\"}",
        "{\"request_id\":\"T\",\"identifier\":\"a\\ud800b\"}",
        "{\"request_id\":\"T\",\"identifier\":\"a\x01"
        "b\"}",
        std::string("{\"request_id\":\"T\",\"identifier\":\"a\0b\"}", 36),
        R"({"request_id":"T","identifier":"a","identifier":"b"})",
        R"({"request_id":"T","identifier":")" + std::string(151, 'x') + "\"}",
        R"({"request_id":")" + std::string(201, 'r') + R"(","identifier":"x"})",
        R"({"request_id":"T","identifier":"x","received_at":"2999-01-01"})",
        R"({"request_id":"T","identifier":"x","received_at":"yesterday"})",
        R"({"request_id":"T","identifier":"x","id_type":"phone"})",
        "\xef\xbb\xbf{\"request_id\":\"T\",\"identifier\":\"x\"} garbage",
    };
    for (int i = 0; i < 150; ++i) {
        std::string random(rng() % 600, '\0');
        for (char& ch : random) {
            ch = static_cast<char>(rng() & 0xff);
        }
        bodies.push_back(random);
        std::string valid = body_for("RND-" + std::to_string(i), "rnd@example.com");
        bodies.push_back(valid.substr(0, rng() % valid.size()));
    }
    int index = 0;
    for (const auto& body : bodies) {
        INFO("body #" << index++);
        auto r = s.post(body);
        REQUIRE(r);
        CHECK(r->status >= 400);
        CHECK(r->status < 500);
        auto unsigned_reply = s.post_raw(body, {{"X-Lethe-Timestamp", "1"}});
        REQUIRE(unsigned_reply);
        CHECK(unsigned_reply->status == (body.size() > 4096 ? 413 : 401));
    }
    CHECK(s.client().Get("/healthz")->status == 200);
    CHECK(count(s.cli, "SELECT count(*) FROM requests") == 0);
    CHECK(s.stop().exit_code == 0);
}

TEST_CASE("serve --with-worker erases a posted request end to end", "[e2e][serve][worker]") {
    Sandbox sandbox;
    ProcessOptions env;
    env.env["LETHE_TEST_TRACK_KEY"] = Sandbox::k_api_key;
    ServeFixture s("[customerio]\ntrack_url = \"" + sandbox.url() +
                       "\"\nallow_insecure_loopback = true\nsite_id = \"" + Sandbox::k_site_id +
                       "\"\napi_key_env = \"LETHE_TEST_TRACK_KEY\"\n"
                       "[worker]\npacing_ms = 0\npoll_interval_ms = 20\n",
                   {"--with-worker"}, env);
    REQUIRE(s.post(body_for("W-1", "worker-e2e@example.com"))->status == 201);
    bool done = false;
    for (int i = 0; i < 500 && !done; ++i) {
        done = count(s.cli, "SELECT count(*) FROM requests WHERE request_id = 'W-1' AND state = "
                            "'done'") == 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(done);
    // The sandbox saw suppress, then destroy, for that person. (The state is kept in a variable:
    // a range-for over a member of a temporary reads freed memory before C++23.)
    const json state = sandbox.state();
    std::vector<std::string> calls;
    for (const auto& e : state["log"]) {
        if (e["identifier"] == "worker-e2e@example.com") {
            calls.push_back(e["call"]);
        }
    }
    CHECK(calls == std::vector<std::string>{"suppress", "destroy"});
    auto metrics = s.client().Get("/metrics")->body;
    CHECK(metric_line(metrics, "lethe_erasures_total") ==
          "lethe_erasures_total{workspace=\"default\"} 1");
    CHECK(metrics.find("lethe_api_calls_total{workspace=\"default\",call=\"suppress\",code="
                       "\"200\"} 1") != std::string::npos);
    CHECK(metrics.find("lethe_api_calls_total{workspace=\"default\",call=\"destroy\",code="
                       "\"200\"} 1") != std::string::npos);
    auto stopped = s.stop();
    CHECK(stopped.exit_code == 0);
    CHECK(stopped.out.find("erased 1") != std::string::npos);
    CHECK(stopped.err.find("worker-e2e@example.com") == std::string::npos);
}

TEST_CASE("serve: HTTPS with [intake] tls_cert_file and tls_key_file", "[e2e][serve]") {
    TempDir certs;
    auto cert = self_signed(certs.path(), "intake");
    ServeFixture s("tls_cert_file = \"" + cert.cert.string() + "\"\ntls_key_file = \"" +
                   cert.key.string() + "\"\n");
    REQUIRE(s.url.rfind("https://127.0.0.1:", 0) == 0);
    httplib::Client trusting(s.url);
    trusting.set_ca_cert_path(cert.cert.string().c_str());
    trusting.enable_server_certificate_verification(true);
    const std::string body = body_for("TLS-1", "tls@example.com");
    const std::string ts = std::to_string(std::time(nullptr));
    auto r = trusting.Post(
        "/v1/erasure-requests",
        {{"X-Lethe-Timestamp", ts},
         {"X-Lethe-Signature", lethe::serve::sign_request(ServeFixture::k_secret, ts, body)}},
        body, "application/json");
    REQUIRE(r);
    CHECK(r->status == 201);
    // Plain HTTP to the TLS port gets no answer.
    httplib::Client plain("http://" + s.url.substr(std::string("https://").size()));
    plain.set_read_timeout(std::chrono::seconds(3));
    auto refused = plain.Get("/healthz");
    CHECK((!refused || refused->status != 200));
    CHECK(s.stop().exit_code == 0);
    // A key file that holds no key stops the command with a configuration error.
    CliFixture broken("[intake]\nlisten = \"127.0.0.1:0\"\nsecret_file = \"" +
                      s.secret_path().string() + "\"\ntls_cert_file = \"" + cert.cert.string() +
                      "\"\ntls_key_file = \"" + cert.cert.string() + "\"\n");
    broken.init();
    auto failed = broken.lethe({"serve"});
    CHECK(failed.exit_code == 3);
    CHECK(failed.err.find("intake.tls_cert_file/tls_key_file: cannot load") != std::string::npos);
}
