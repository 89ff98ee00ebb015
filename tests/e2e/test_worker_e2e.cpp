#include "cli_fixture.hpp"
#include "sandbox_fixture.hpp"
#include "store/audit_log.hpp"

#include <SQLiteCpp/Database.h>
#include <catch2/catch.hpp>
#include <csignal>
#include <map>
#include <random>
#include <set>

using namespace lethe::test;
using nlohmann::json;

namespace {

// lethe configured against a sandbox, with fast timings.
std::string worker_config(const Sandbox& sandbox, int concurrency = 4) {
    return "[customerio]\ntrack_url = \"" + sandbox.url() +
           "\"\nallow_insecure_loopback = true\nsite_id = \"" + Sandbox::k_site_id +
           "\"\napi_key_env = \"LETHE_TEST_TRACK_KEY\"\ntimeout_ms = 2000\n"
           "[worker]\npacing_ms = 0\nconcurrency = " +
           std::to_string(concurrency) +
           "\nlease_seconds = 2\nmax_attempts = 50\nbackoff_base_ms = 1\nbackoff_max_ms = 20\n"
           "poll_interval_ms = 10\n";
}

ProcessOptions worker_env(const std::string& key = Sandbox::k_api_key) {
    ProcessOptions o;
    o.env["LETHE_TEST_TRACK_KEY"] = key;
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    return o;
}

std::vector<std::string> lethe_argv(const CliFixture& f, std::vector<std::string> args) {
    std::vector<std::string> argv = {lethe_bin(), "--config", (f.dir / "lethe.toml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

ProcessResult run_worker(const CliFixture& f, std::vector<std::string> args,
                         const std::string& key = Sandbox::k_api_key) {
    return run(lethe_argv(f, std::move(args)), worker_env(key), std::chrono::seconds(120));
}

// Seeds `n` profiles person0..person(n-1)@example.com into the sandbox, with bystanders whose
// addresses look alike (another domain, a longer local part), and imports requests for the
// targets only.
void import_people(const CliFixture& f, const Sandbox& sandbox, int n,
                   const std::string& prefix = "person") {
    json people = json::array();
    for (int i = 0; i < n; ++i) {
        std::string local = prefix + std::to_string(i);
        people.push_back({{"id", "uid-" + local}, {"email", local + "@example.com"}});
        people.push_back({{"id", "uid-" + local + "-org"}, {"email", local + "@example.org"}});
        people.push_back({{"id", "uid-x" + local}, {"email", "x" + local + "@example.com"}});
    }
    sandbox.seed(people);
    std::string csv = "request_id,identifier\n";
    for (int i = 0; i < n; ++i) {
        csv += "REQ-" + prefix + std::to_string(i) + "," + prefix + std::to_string(i) +
               "@example.com\n";
    }
    auto r = f.lethe({"import", f.csv(prefix + ".csv", csv)});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
}

// The sandbox's own view: each of the first `n` targets is gone (and its identifiers blocked),
// every bystander is still there.
void check_gone(const Sandbox& sandbox, int n, const std::string& prefix = "person",
                int first = 0) {
    const json state = sandbox.state();
    std::set<std::string> live;
    for (const auto& p : state["workspaces"]["default"]["profiles"]) {
        live.insert(p["email"].get<std::string>());
    }
    for (int i = first; i < first + n; ++i) {
        std::string local = prefix + std::to_string(i);
        INFO(local);
        CHECK(live.count(local + "@example.com") == 0);
        CHECK(live.count(local + "@example.org") == 1);
        CHECK(live.count("x" + local + "@example.com") == 1);
    }
}

// How many of the `n` targets are still in the sandbox (one look at its state).
int targets_left(const Sandbox& sandbox, int n, const std::string& prefix = "person") {
    std::set<std::string> live;
    for (const auto& p : sandbox.profiles()) {
        live.insert(p["email"].get<std::string>());
    }
    int left = 0;
    for (int i = 0; i < n; ++i) {
        left += static_cast<int>(live.count(prefix + std::to_string(i) + "@example.com"));
    }
    return left;
}

json status(const CliFixture& f) {
    return json::parse(f.lethe({"status", "--json"}).out);
}

// For each identifier, the sandbox must have answered a suppress with 2xx before it saw any
// destroy: the invariant "suppress before destroy", checked from the other side.
void check_suppress_before_destroy(const Sandbox& sandbox) {
    std::map<std::string, bool> suppressed;
    // Keep the state alive: a range-for over a member of a temporary would read freed memory.
    const nlohmann::json state = sandbox.state();
    for (const auto& e : state["log"]) {
        if (e["identifier"].is_null()) {
            continue;
        }
        std::string id = e["identifier"];
        int status = e["status"];
        if (e["call"] == "suppress" && status >= 200 && status < 300) {
            suppressed[id] = true;
        }
        if (e["call"] == "destroy") {
            INFO("destroy before a successful suppress for " << id);
            CHECK(suppressed[id]);
        }
    }
}

// Recomputes the audit chain from the database file.
void check_chain(const CliFixture& f) {
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT seq, at, event, request_ref, subject_digest, detail, "
                            "prev_hash, hash FROM audit_log ORDER BY seq");
    std::string prev(lethe::store::k_genesis_hash);
    std::int64_t expected = 1;
    while (q.executeStep()) {
        lethe::store::AuditEntry e{q.getColumn(0).getInt64(),  q.getColumn(1).getString(),
                                   q.getColumn(2).getString(), q.getColumn(3).getString(),
                                   q.getColumn(4).getString(), q.getColumn(5).getString(),
                                   q.getColumn(6).getString(), q.getColumn(7).getString()};
        REQUIRE(e.seq == expected++);
        REQUIRE(e.prev_hash == prev);
        REQUIRE(e.hash == lethe::store::audit_entry_hash(e));
        prev = e.hash;
    }
}

} // namespace

TEST_CASE("run --once erases everyone: suppress before destroy, identifiers scrubbed",
          "[e2e][worker]") {
    Sandbox sandbox;
    CliFixture f(worker_config(sandbox));
    f.init();
    import_people(f, sandbox, 30);
    auto r = run_worker(f, {"run", "--once"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("erased 30") != std::string::npos);
    auto s = status(f);
    CHECK(s["counts"]["done"] == 30);
    CHECK(s["counts"]["pending"] == 0);
    check_gone(sandbox, 30);
    check_suppress_before_destroy(sandbox);
    check_chain(f);
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM requests WHERE identifier IS NOT NULL").getInt() ==
          0);
    CHECK(db.execAndGet("SELECT count(*) FROM audit_log WHERE detail LIKE '%example.com%' OR "
                        "request_ref LIKE '%example.com%'")
              .getInt() == 0);
    CHECK(r.err.find("example.com") == std::string::npos);
    CHECK(r.err.find(Sandbox::k_api_key) == std::string::npos);
}

TEST_CASE("faults: 429s, 5xx and resets are retried until everyone is erased", "[e2e][worker]") {
    Sandbox sandbox({"--rate-429", "0.15", "--retry-after", "0", "--retry-after-share", "0.5",
                     "--rate-500", "0.05", "--rate-503", "0.1", "--rate-reset", "0.05", "--seed",
                     "7"});
    CliFixture f(worker_config(sandbox));
    f.init();
    import_people(f, sandbox, 40);
    ProcessResult r;
    for (int i = 0; i < 10 && status(f)["counts"]["done"] != 40; ++i) {
        r = run_worker(f, {"run", "--once"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    }
    auto s = status(f);
    CHECK(s["counts"]["done"] == 40);
    CHECK(s["counts"]["dead"] == 0);
    check_gone(sandbox, 40);
    check_suppress_before_destroy(sandbox);
    check_chain(f);
    auto counters = sandbox.state()["counters"];
    INFO(counters.dump());
    CHECK(counters["by_fault"].size() >= 3);
}

TEST_CASE("a permanent 400 makes the request dead with the reason; retry revives it",
          "[e2e][worker]") {
    Sandbox sandbox({"--status-for", "poison=400"});
    CliFixture f(worker_config(sandbox));
    f.init();
    import_people(f, sandbox, 3);
    import_people(f, sandbox, 1, "poison");
    auto r = run_worker(f, {"--log-level", "debug", "run", "--once"});
    REQUIRE(r.exit_code == 0);
    // The sandbox's 400 quotes the identifier as "poison0%40example.com" and
    // "poison0&#64;example.com": none of the remote text reaches a record that lethe keeps.
    auto exported = f.lethe({"audit", "export"});
    REQUIRE(exported.exit_code == 0);
    for (const std::string* text : {&r.err, &r.out, &exported.out}) {
        // "REQ-poison0" is the operator's own request id; the identifier is poison0@example.com.
        for (const char* form : {"poison0@", "poison0%40", "poison0&#64;", "example.com"}) {
            CHECK(text->find(form) == std::string::npos);
        }
        CHECK(text->find("rule matched") == std::string::npos);
    }
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM requests WHERE last_error LIKE '%poison%' OR "
                        "last_error LIKE '%rule%'")
              .getInt() == 0);
    auto s = status(f);
    CHECK(s["counts"]["done"] == 3);
    CHECK(s["counts"]["dead"] == 1);
    auto dead = f.lethe({"list", "--state", "dead"});
    CHECK(dead.out.find("REQ-poison0") != std::string::npos);
    CHECK(dead.out.find("suppress: HTTP 400") != std::string::npos);
    check_gone(sandbox, 3);
    CHECK(sandbox.has_profile("email", "poison0@example.com")); // dead: still there

    REQUIRE(sandbox.admin("/_sandbox/faults", {{"status_for", json::array()}}) == 200);
    CHECK(f.lethe({"retry", "REQ-poison0"}).exit_code == 0);
    REQUIRE(run_worker(f, {"run", "--once"}).exit_code == 0);
    CHECK(status(f)["counts"]["done"] == 4);
    check_gone(sandbox, 1, "poison");
}

TEST_CASE("401 halts the run without failing anyone; with the key fixed they complete",
          "[e2e][worker]") {
    Sandbox sandbox;
    CliFixture f(worker_config(sandbox));
    f.init();
    import_people(f, sandbox, 5);
    auto r = run_worker(f, {"run", "--once"}, "sk_wrong_key_000000");
    CHECK(r.exit_code == 6);
    CHECK(r.err.find("credentials") != std::string::npos);
    CHECK(r.err.find("sk_wrong_key_000000") == std::string::npos);
    auto s = status(f);
    CHECK(s["counts"]["pending"] == 5);
    CHECK(s["counts"]["dead"] == 0);
    auto list = f.lethe({"list", "--json"});
    CHECK(list.out.find("\"attempts\":1") == std::string::npos); // nobody was charged
    CHECK(targets_left(sandbox, 5) == 5);
    auto fixed = run_worker(f, {"run", "--once"});
    INFO(fixed.err);
    CHECK(fixed.exit_code == 0);
    CHECK(status(f)["counts"]["done"] == 5);
    check_gone(sandbox, 5);
}

TEST_CASE("--max stops after N erasures", "[e2e][worker]") {
    Sandbox sandbox;
    CliFixture f(worker_config(sandbox, 1));
    f.init();
    import_people(f, sandbox, 6);
    auto r = run_worker(f, {"run", "--once", "--max", "2"});
    REQUIRE(r.exit_code == 0);
    CHECK(status(f)["counts"]["done"] == 2);
    CHECK(targets_left(sandbox, 6) == 4);
}

TEST_CASE("SIGTERM: in-flight calls finish, leases are released, exit 0", "[e2e][worker]") {
    Sandbox sandbox({"--latency-ms", "150"});
    CliFixture f(worker_config(sandbox));
    f.init();
    import_people(f, sandbox, 50);
    Process worker(lethe_argv(f, {"run"}), worker_env());
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    worker.signal(SIGTERM);
    auto r = worker.wait(std::chrono::seconds(20));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.signal == 0);
    SQLite::Database db(f.db_path().string(), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM requests WHERE lease_owner IS NOT NULL").getInt() ==
          0);
    int done = status(f)["counts"]["done"];
    CHECK(done > 0);
    CHECK(done < 50);
    // Done ones are gone; a suppressed one whose destroy was not sent yet is gone too.
    int left = targets_left(sandbox, 50);
    CHECK(left <= 50 - done);
    CHECK(left >= 50 - done - 4);
    CHECK(db.execAndGet("SELECT count(*) FROM audit_log WHERE event = 'worker.stopped'").getInt() ==
          1);
    check_suppress_before_destroy(sandbox);
    check_chain(f);
}

TEST_CASE("a stray SIGUSR2 does not make the service deaf to SIGTERM", "[e2e][worker]") {
    Sandbox sandbox;
    CliFixture f(worker_config(sandbox));
    f.init();
    Process worker(lethe_argv(f, {"run"}), worker_env());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    // SIGUSR2 is the signal watcher's private wake-up; from outside it used to end the watcher,
    // leaving SIGTERM blocked in every thread.
    worker.signal(SIGUSR2);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    worker.signal(SIGTERM);
    auto r = worker.wait(std::chrono::seconds(10));
    INFO(r.err);
    CHECK(r.signal == 0); // not the SIGKILL of the wait's time-out
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("(signal)") != std::string::npos);
}

TEST_CASE("kill -9 at random moments: a restart finishes everything in order", "[e2e][worker]") {
    Sandbox sandbox({"--latency-ms", "5"});
    CliFixture f(worker_config(sandbox));
    f.init();
    import_people(f, sandbox, 60);
    std::mt19937 rng(12345);
    for (int round = 0; round < 12; ++round) {
        Process worker(lethe_argv(f, {"run"}), worker_env());
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 150));
        worker.signal(SIGKILL);
        worker.wait(std::chrono::seconds(10));
        check_chain(f);
    }
    // Leases of the killed workers expire (2 s); the final run finishes the rest.
    for (int i = 0; i < 5 && status(f)["counts"]["done"] != 60; ++i) {
        auto r = run_worker(f, {"run", "--once"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        if (status(f)["counts"]["done"] != 60) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2100));
        }
    }
    auto s = status(f);
    CHECK(s["counts"]["done"] == 60);
    CHECK(s["counts"]["dead"] == 0);
    check_gone(sandbox, 60);
    check_suppress_before_destroy(sandbox);
    check_chain(f);
}

TEST_CASE("four workers on one database never erase the same request at once", "[e2e][worker]") {
    Sandbox sandbox({"--latency-ms", "3"});
    CliFixture f(worker_config(sandbox));
    f.init();
    import_people(f, sandbox, 80);
    std::vector<std::unique_ptr<Process>> workers;
    for (int i = 0; i < 4; ++i) {
        workers.push_back(
            std::make_unique<Process>(lethe_argv(f, {"run", "--once"}), worker_env()));
    }
    for (auto& w : workers) {
        auto r = w->wait(std::chrono::seconds(60));
        INFO(r.err);
        CHECK(r.exit_code == 0);
    }
    CHECK(status(f)["counts"]["done"] == 80);
    check_gone(sandbox, 80);
    // No faults: each person must have been suppressed once and destroyed once.
    std::map<std::string, int> suppress_calls;
    std::map<std::string, int> destroy_calls;
    const json log = sandbox.state()["log"];
    INFO(log.dump().substr(0, 3000));
    for (const auto& e : log) {
        const std::string id =
            e["identifier"].is_string() ? e["identifier"].get<std::string>() : "";
        if (e["call"] == "suppress") {
            ++suppress_calls[id];
        } else if (e["call"] == "destroy") {
            ++destroy_calls[id];
        }
    }
    CHECK(suppress_calls.size() == 80);
    for (const auto& [id, n] : suppress_calls) {
        INFO(id);
        CHECK(n == 1);
        CHECK(destroy_calls[id] == 1);
    }
    check_chain(f);
}

TEST_CASE("the README demo runs the whole pipeline against the sandbox", "[e2e][worker][demo]") {
    TempDir dir;
    ProcessOptions o;
    o.env["LETHE_BIN"] = lethe_bin();
    o.env["LETHE_SANDBOX_BIN"] = sandbox_bin();
    o.env["LETHE_DEMO_DIR"] = (dir / "demo").string();
    o.unset_env = {"LETHE_CONFIG", "JOURNAL_STREAM"};
    auto r = run({"/bin/bash", (source_root() / "scripts" / "demo.sh").string()}, o,
                 std::chrono::seconds(60));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("demo   ok   region us   environment 101   ") != std::string::npos);
    CHECK(r.out.find("erased 4, retries scheduled 0, dead 0") != std::string::npos);
    CHECK(r.out.find("done:        5") != std::string::npos);
    // Every erasure was read back through the App API, and the sandbox's own state agrees: the
    // sample's four people are gone, the bystander is not.
    CHECK(r.err.find("erased in demo, verified") != std::string::npos); // the worker's log
    CHECK(r.err.find("unverified") == std::string::npos);
    CHECK(r.out.find("deleted: 4 profiles; left: u-erin") != std::string::npos);
    CHECK(r.out.find("audit log: ok") != std::string::npos);
    CHECK(r.out.find("received:            5  (1 linked duplicate)") != std::string::npos);
    CHECK(read_text(dir / "demo" / "report.html").find("<svg") != std::string::npos);
    // The sample's identifiers are gone from everything the demo printed.
    CHECK(r.out.find("alice@example.com") == std::string::npos);
    CHECK(r.err.find("alice@example.com") == std::string::npos);
}
