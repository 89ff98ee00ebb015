// Unit tests of the log's side of tlog-witness (src/witness/submit.hpp): a real database, the
// witness in process behind a fake HTTP client.
#include "../audit/fixture.hpp"
#include "audit/checkpoint.hpp"
#include "log_model.hpp"
#include "store/witness_store.hpp"
#include "util/fs.hpp"
#include "witness/submit.hpp"
#include "witness/witness.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using namespace lethe::witness;

namespace {

// Sends add-checkpoint bodies to an in-process witness, or fails like a witness that is down.
class WitnessHttp final : public net::HttpClient {
public:
    explicit WitnessHttp(Witness& w) : m_witness(w) {}
    net::HttpResponse perform(const net::HttpRequest& req) override {
        ++calls;
        last_url = req.url;
        net::HttpResponse res;
        if (down) {
            res.transport_error = "connection failed";
            return res;
        }
        auto r = m_witness.add_checkpoint(req.body);
        res.status = r.status;
        res.body = r.body;
        res.headers.emplace_back("content-type", r.content_type);
        return res;
    }
    bool down = false;
    int calls = 0;
    std::string last_url;

private:
    Witness& m_witness;
};

class FixedRandom final : public Random {
public:
    std::uint64_t uniform(std::uint64_t max_inclusive) override { return max_inclusive; }
};

struct SubmitFixture : test::AuditFixture {
    audit::WitnessKey key = audit::generate_witness_key("witness.test/w1");
    Witness witness{dir / "witness.db",
                    test::copy_of(key),
                    {TrustedLog{"lethe/test", signer().verifier_key()}},
                    clock};
    WitnessHttp http{witness};
    FixedRandom random;

    SubmitFixture() {
        cfg.audit.witnesses.push_back(
            config::WitnessSection{"witness.test/w1", "http://127.0.0.1:9",
                                   audit::format_verifier_key(key.verifier), true});
        cfg.audit.witness_quorum = 1;
    }
    SubmitResult submit(bool force = false) {
        audit::write_checkpoint(db, cfg, clock);
        auto results = submit_latest_checkpoint(db, cfg, http, clock, random, force);
        REQUIRE(results.size() == 1);
        return results[0];
    }
    std::optional<store::WitnessedCheckpoint> witnessed(std::int64_t quorum = 1) {
        return store::latest_witnessed(db, {"witness.test/w1"}, quorum);
    }
};

} // namespace

TEST_CASE("a checkpoint is submitted, cosigned and kept on the note", "[witness]") {
    SubmitFixture f;
    f.append(5);
    auto r = f.submit();
    INFO(r.detail);
    CHECK(r.outcome == SubmitOutcome::cosigned);
    CHECK(f.http.last_url == "http://127.0.0.1:9/add-checkpoint");
    REQUIRE(f.witnessed());
    CHECK(f.witnessed()->size == 5);
    CHECK_FALSE(f.witnessed(2));
    // The note in checkpoint_dir now carries the cosignature.
    const std::string latest =
        read_file(f.cfg.audit.checkpoint_dir / "latest.note", FileKind::checkpoint_note);
    std::string error;
    auto parsed = audit::parse_note(latest, error);
    REQUIRE(parsed);
    CHECK(audit::check_cosignature(*parsed, f.key.verifier).check == audit::CosignatureCheck::ok);
    CHECK(audit::check_note(*parsed, f.signer().verifier_key()) == audit::NoteCheck::ok);

    // Nothing to do until the log grows.
    CHECK(f.submit().outcome == SubmitOutcome::already);
    CHECK(f.http.calls == 1);
    f.append(3);
    CHECK(f.submit().outcome == SubmitOutcome::cosigned);
    CHECK(f.witnessed()->size == 8);
}

TEST_CASE("a witness that is down is retried after a backoff", "[witness]") {
    SubmitFixture f;
    f.append(2);
    f.http.down = true;
    auto r = f.submit();
    CHECK(r.outcome == SubmitOutcome::unreachable);
    CHECK(r.detail == "connection failed");
    // FixedRandom takes the longest delay: 30 s for the first failure.
    f.clock.advance(29'000);
    CHECK(f.submit().outcome == SubmitOutcome::waiting);
    CHECK(f.http.calls == 1);
    CHECK(f.submit(true).outcome == SubmitOutcome::unreachable); // forced: tried again
    CHECK(f.http.calls == 2);
    const auto state = store::witness_submission(f.db, "witness.test/w1");
    REQUIRE(state);
    CHECK(state->attempts == 2);
    f.http.down = false;
    f.clock.advance(61'000);
    CHECK(f.submit().outcome == SubmitOutcome::cosigned);
    CHECK(store::witness_submission(f.db, "witness.test/w1")->attempts == 0);
}

TEST_CASE("a witness ahead of what lethe remembers answers 409 and is proved to", "[witness]") {
    SubmitFixture f;
    f.append(4);
    REQUIRE(f.submit().outcome == SubmitOutcome::cosigned);
    // lethe lost what it knew (say, a restored backup): no cosignatures, no submission state.
    f.db.db().exec("DELETE FROM witness_cosignatures; DELETE FROM witness_submissions");
    f.append(3);
    const int before = f.http.calls;
    auto r = f.submit();
    INFO(r.detail);
    CHECK(r.outcome == SubmitOutcome::cosigned);
    CHECK(f.http.calls - before == 2); // old 0 → 409 "4", then old 4 with a proof
}

TEST_CASE("a rewritten log is refused by the witness", "[witness]") {
    SubmitFixture f;
    f.append(6);
    REQUIRE(f.submit().outcome == SubmitOutcome::cosigned);
    // The operator rebuilds the log with other entries and erases every trace of the old one.
    f.db.db().exec("DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_tree_no_delete; "
                   "DELETE FROM audit_log; DELETE FROM audit_tree; DELETE FROM "
                   "witness_cosignatures; DELETE FROM witness_submissions; DELETE FROM "
                   "checkpoints");
    std::filesystem::remove_all(f.cfg.audit.checkpoint_dir);
    f.append(9, "forged.event");
    auto r = f.submit();
    CHECK(r.outcome == SubmitOutcome::refused);
    CHECK(r.detail.find("HTTP 422") != std::string::npos);
    CHECK_FALSE(f.witnessed());
    CHECK(store::witness_submission(f.db, "witness.test/w1")->last_error == r.detail);
}

TEST_CASE("a log smaller than what the witness cosigned is reported as rolled back", "[witness]") {
    SubmitFixture f;
    f.append(6);
    REQUIRE(f.submit().outcome == SubmitOutcome::cosigned);
    f.db.db().exec("DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_tree_no_delete; "
                   "DELETE FROM audit_log WHERE seq > 3; DELETE FROM audit_tree WHERE "
                   "((idx + 1) << level) > 3; DELETE FROM witness_cosignatures; DELETE FROM "
                   "checkpoints");
    std::filesystem::remove_all(f.cfg.audit.checkpoint_dir);
    auto r = f.submit();
    CHECK(r.outcome == SubmitOutcome::refused);
    CHECK(r.detail.find("rolled back") != std::string::npos);
}
