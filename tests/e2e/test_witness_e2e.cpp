// End-to-end tests of the witnesses (issue 17): the real `lethe witness serve` on 127.0.0.1, a
// real lethe installation submitting its checkpoints to it, and the operator who holds the
// checkpoint key rewriting or truncating the log.
#include "cli_fixture.hpp"
#include "store/audit_log.hpp"
#include "store/audit_tree.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <catch2/catch.hpp>
#include <csignal>
#include <memory>
#include <regex>
#include <thread>

using namespace lethe::test;

namespace {

std::string trim_nl(std::string s) {
    while (!s.empty() && s.back() == '\n') {
        s.pop_back();
    }
    return s;
}

// `lethe witness serve` for one log, its state in the fixture's directory.
class WitnessProcess {
public:
    WitnessProcess(const TempDir& dir, const std::string& log_origin, const std::string& log_vkey)
        : m_dir(dir), m_log("--log=" + log_origin + "=" + log_vkey) {
        auto r = run({lethe_bin(), "witness", "init", "--key-file", key_file(), "--name",
                      "witness.test/w1"});
        REQUIRE(r.exit_code == 0);
        vkey = trim_nl(r.out);
        start();
    }

    void start() {
        process = std::make_unique<Process>(std::vector<std::string>{
            lethe_bin(), "witness", "serve", "--listen", "127.0.0.1:" + std::to_string(m_port),
            "--key-file", key_file(), "--db", (m_dir / "witness.db").string(), m_log});
        const std::regex line("lethe witness listening on (http://127\\.0\\.0\\.1:([0-9]+))");
        for (int i = 0; i < 1000; ++i) {
            std::smatch m;
            const std::string out = process->stdout_so_far();
            if (std::regex_search(out, m, line)) {
                url = m[1];
                m_port = std::stoi(m[2]);
                return;
            }
            if (auto done = process->wait_for(std::chrono::milliseconds(10))) {
                FAIL("lethe witness serve exited: " << done->err);
            }
        }
        FAIL("lethe witness serve did not start: " << process->stderr_so_far());
    }
    void kill() {
        process->signal(SIGKILL);
        process->wait();
    }
    std::int64_t refusals() const {
        SQLite::Database db((m_dir / "witness.db").string());
        return db.execAndGet("SELECT COUNT(*) FROM witness_refusals").getInt64();
    }
    std::string key_file() const { return (m_dir / "witness.key").string(); }

    std::string vkey;
    std::string url;
    std::unique_ptr<Process> process;

private:
    const TempDir& m_dir;
    std::string m_log;
    int m_port = 0; // 0 at first; the same port after a restart
};

// A lethe installation whose checkpoints one witness cosigns.
struct WitnessedInstall {
    TempDir witness_dir; // "a machine the operator does not control"
    CliFixture f;
    std::unique_ptr<WitnessProcess> witness;

    explicit WitnessedInstall(int n, const std::string& extra_config = "")
        : f("origin = \"lethe.test/log\"\n" + extra_config) {
        f.init();
        witness = std::make_unique<WitnessProcess>(witness_dir, "lethe.test/log", log_key());
        const std::string config = read_text(f.dir / "lethe.toml");
        write_text(f.dir / "lethe.toml", config +
                                             "[[audit.witness]]\nname = \"witness.test/w1\"\n"
                                             "url = \"" +
                                             witness->url + "\"\nvkey = \"" + witness->vkey +
                                             "\"\nallow_insecure_loopback = true\n");
        enqueue(0, n);
    }
    void enqueue(int from, int to) const {
        for (int i = from; i < to; ++i) {
            ok({"enqueue", "alice" + std::to_string(i) + "@example.com", "--request-id",
                "REQ-" + std::to_string(i)});
        }
    }
    ProcessResult ok(std::vector<std::string> args) const {
        auto r = f.lethe(std::move(args));
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    }
    std::string log_key() const { return trim_nl(ok({"audit", "public-key"}).out); }
    std::string path(const std::string& name) const { return (f.dir / name).string(); }
    std::string latest_note() const {
        return read_text(f.dir / "state" / "checkpoints" / "latest.note");
    }
    ProcessResult verify(std::vector<std::string> extra) const {
        std::vector<std::string> args = {"audit", "verify", "--witness", witness->vkey};
        args.insert(args.end(), extra.begin(), extra.end());
        return f.lethe(args);
    }
    // What the operator, who holds the checkpoint key, does to hide entry `seq`: changes it,
    // recomputes every hash after it and the Merkle tree, and removes every checkpoint and
    // cosignature, so that lethe signs the rewritten log as if it were the only one.
    void rewrite_entry(std::int64_t seq) const {
        SQLite::Database db(f.db_path().string(), SQLite::OPEN_READWRITE);
        db.exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_tree_no_delete");
        SQLite::Transaction tx(db);
        SQLite::Statement q(db, "SELECT seq, at, event, request_ref, subject_digest, detail, "
                                "prev_hash, hash FROM audit_log WHERE seq >= ? ORDER BY seq");
        q.bind(1, seq);
        std::vector<lethe::store::AuditEntry> entries;
        while (q.executeStep()) {
            entries.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                               q.getColumn(2).getString(), q.getColumn(3).getString(),
                               q.getColumn(4).getString(), q.getColumn(5).getString(),
                               q.getColumn(6).getString(), q.getColumn(7).getString()});
        }
        REQUIRE(!entries.empty());
        entries[0].detail = R"({"note":"erased, really"})";
        std::string prev = entries[0].prev_hash;
        for (auto& e : entries) {
            e.prev_hash = prev;
            e.hash = lethe::store::audit_entry_hash(e);
            prev = e.hash;
            SQLite::Statement u(db, "UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? "
                                    "WHERE seq = ?");
            u.bind(1, e.detail);
            u.bind(2, e.prev_hash);
            u.bind(3, e.hash);
            u.bind(4, e.seq);
            u.exec();
        }
        db.exec("DELETE FROM audit_tree");
        lethe::store::backfill_audit_tree(db);
        db.exec("DELETE FROM witness_cosignatures; DELETE FROM witness_submissions; DELETE FROM "
                "checkpoints");
        tx.commit();
        std::filesystem::remove_all(f.dir / "state" / "checkpoints");
    }
};

} // namespace

TEST_CASE("a witness cosigns the checkpoints and verify requires its cosignature",
          "[e2e][witness]") {
    WitnessedInstall a(4);
    auto r = a.ok({"audit", "checkpoint"});
    CHECK(r.out.find("witness witness.test/w1: cosigned") != std::string::npos);
    CHECK(a.latest_note().find("\xE2\x80\x94 witness.test/w1 ") != std::string::npos);

    auto v = a.verify({"--quorum", "1"});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("cosigned by 1 trusted witness(es) (witness.test/w1)") != std::string::npos);

    a.ok({"audit", "export", "-o", a.path("export.jsonl")});
    auto e = a.verify({"--file", a.path("export.jsonl")});
    INFO(e.out << e.err);
    CHECK(e.exit_code == 0);
    CHECK(e.out.find("witnessed_note") != std::string::npos);

    // A witness the verifier does not know vouches for nothing.
    TempDir other;
    auto init = run({lethe_bin(), "witness", "init", "--key-file", (other / "k").string(), "--name",
                     "witness.test/other"});
    REQUIRE(init.exit_code == 0);
    auto u = a.f.lethe({"audit", "verify", "--witness", trim_nl(init.out)});
    CHECK(u.exit_code == 1);
    CHECK(u.err.find("not witnessed") != std::string::npos);

    // A subject's proof bundle carries the cosignature; verify-proof can require it.
    a.ok({"audit", "proof", "--request", "REQ-1", "-o", a.path("proof.jsonl")});
    const std::string key = a.log_key();
    auto p = a.f.lethe({"audit", "verify-proof", a.path("proof.jsonl"), "--key", key, "--witness",
                        a.witness->vkey, "--quorum", "1"});
    INFO(p.out << p.err);
    CHECK(p.exit_code == 0);
    auto q = a.f.lethe({"audit", "verify-proof", a.path("proof.jsonl"), "--key", key, "--witness",
                        trim_nl(init.out)});
    CHECK(q.exit_code == 1);
    CHECK(q.err.find("not witnessed") != std::string::npos);

    // status and its JSON show the witnessed size.
    auto s = a.ok({"status"});
    CHECK(s.out.find("witnessed:   4 entries") != std::string::npos);
    auto report = a.ok({"report", "--format", "json"});
    CHECK(report.out.find("\"witnessed_size\": 4") != std::string::npos);
    CHECK(a.ok({"report"}).out.find("4 witnessed (quorum 1,") != std::string::npos);
}

TEST_CASE("a witness that was down gets the checkpoint later, and keeps its state across a "
          "kill -9",
          "[e2e][witness]") {
    WitnessedInstall a(2);
    a.ok({"audit", "checkpoint"});
    a.witness->kill();
    a.enqueue(2, 4);
    auto down = a.ok({"audit", "checkpoint"});
    CHECK(down.out.find("unreachable") != std::string::npos);
    a.witness->start(); // same port, same state database
    auto up = a.ok({"audit", "checkpoint"});
    CHECK(up.out.find("cosigned") != std::string::npos);
    CHECK(a.verify({}).exit_code == 0);
    CHECK(a.witness->refusals() == 0);
}

TEST_CASE("the operator's rewrite: the witness refuses to cosign and verify fails",
          "[e2e][witness]") {
    WitnessedInstall a(6);
    a.ok({"audit", "checkpoint"});
    REQUIRE(a.verify({"--quorum", "1"}).exit_code == 0);

    a.rewrite_entry(3);
    a.enqueue(6, 8);
    // lethe itself sees nothing wrong: the checkpoints it could compare with are gone.
    auto plain = a.f.lethe({"audit", "verify"});
    CHECK(plain.exit_code == 0);
    auto c = a.ok({"audit", "checkpoint"});
    INFO(c.out << c.err);
    CHECK(c.out.find("witness witness.test/w1: refused (HTTP 422") != std::string::npos);
    CHECK(a.witness->refusals() == 1);

    auto v = a.verify({"--quorum", "1"});
    CHECK(v.exit_code == 1);
    CHECK(v.err.find("not witnessed") != std::string::npos);
    a.ok({"audit", "export", "-o", a.path("rewritten.jsonl")});
    auto e = a.verify({"--file", a.path("rewritten.jsonl"), "--quorum", "1"});
    CHECK(e.exit_code == 1);
    CHECK(e.err.find("not witnessed") != std::string::npos);
}

TEST_CASE("a truncated export fails once a newer witnessed checkpoint is given", "[e2e][witness]") {
    WitnessedInstall a(3);
    a.ok({"audit", "checkpoint"});
    a.ok({"audit", "export", "-o", a.path("older.jsonl")});
    a.enqueue(3, 6);
    a.ok({"audit", "checkpoint"});
    write_text(a.f.dir / "newer.note", a.latest_note());

    // The older export is genuine on its own; given the newer checkpoint it is refused as older.
    auto genuine = a.verify({"--file", a.path("older.jsonl")});
    INFO(genuine.out << genuine.err);
    CHECK(genuine.exit_code == 0);

    // The operator cuts the log back to its older size and exports it as the log of today.
    {
        SQLite::Database db(a.f.db_path().string(), SQLite::OPEN_READWRITE);
        const std::int64_t keep = db.execAndGet("SELECT MAX(size) FROM checkpoints WHERE size < "
                                                "(SELECT MAX(size) FROM checkpoints)")
                                      .getInt64();
        db.exec("DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_tree_no_delete");
        db.exec("DELETE FROM audit_log WHERE seq > " + std::to_string(keep) +
                "; DELETE FROM audit_tree WHERE ((idx + 1) << level) > " + std::to_string(keep) +
                "; DELETE FROM witness_cosignatures; DELETE FROM checkpoints WHERE size > " +
                std::to_string(keep));
    }
    std::filesystem::remove_all(a.f.dir / "state" / "checkpoints");
    a.ok({"audit", "export", "-o", a.path("truncated.jsonl")});
    auto alone = a.f.lethe({"audit", "verify", "--file", a.path("truncated.jsonl")});
    CHECK(alone.exit_code == 0); // without the newer checkpoint nothing shows
    auto t = a.verify({"--file", a.path("truncated.jsonl"), "--checkpoint", a.path("newer.note")});
    INFO(t.out << t.err);
    CHECK(t.exit_code == 1);
    CHECK(t.err.find("removed") != std::string::npos);
    // And with the witness's keys the export has no witnessed checkpoint of its own either.
    CHECK(a.verify({"--file", a.path("truncated.jsonl"), "--quorum", "1"}).exit_code == 1);
}

TEST_CASE("lethe serve checkpoints every checkpoint_interval_s and the witness follows",
          "[e2e][witness]") {
    WitnessedInstall a(2, "checkpoint_interval_s = 1\n[intake]\nlisten = \"127.0.0.1:0\"\n"
                          "secret_file = \"intake.secret\"\n");
    write_text(a.f.dir / "intake.secret", "serve-witness-secret-0123456789\n");
    std::filesystem::permissions(a.f.dir / "intake.secret",
                                 std::filesystem::perms::owner_read |
                                     std::filesystem::perms::owner_write);
    Process serve({lethe_bin(), "--config", a.path("lethe.toml"), "serve"});
    auto witnessed_size = [&] {
        SQLite::Database db(a.f.db_path().string());
        return db
            .execAndGet("SELECT COALESCE(MAX(c.size), 0) FROM checkpoints c JOIN "
                        "witness_cosignatures w ON w.checkpoint_id = c.id")
            .getInt64();
    };
    auto wait_for_size = [&](std::int64_t size) {
        for (int i = 0; i < 200 && witnessed_size() < size; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return witnessed_size();
    };
    CHECK(wait_for_size(2) == 2);
    a.enqueue(2, 5); // the service keeps running; its next interval signs and submits these
    CHECK(wait_for_size(5) == 5);
    serve.signal(SIGTERM);
    CHECK(serve.wait(std::chrono::seconds(20)).exit_code == 0);
    CHECK(a.verify({"--quorum", "1"}).exit_code == 0);
}
