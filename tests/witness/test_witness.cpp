// Unit tests of the witness (src/witness/witness.hpp): C2SP tlog-witness add-checkpoint.
#include "log_model.hpp"
#include "support/tempdir.hpp"
#include "util/clock.hpp"
#include "util/error.hpp"
#include "witness/server.hpp"
#include "witness/witness.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using namespace lethe::witness;

namespace {

struct WitnessFixture {
    test::TempDir dir;
    FakeClock clock{1'800'000'000'000};
    test::LogModel log;
    audit::WitnessKey key = audit::generate_witness_key("witness.test/w1");
    std::unique_ptr<Witness> w = open();

    std::unique_ptr<Witness> open() {
        return std::make_unique<Witness>(dir / "witness.db", test::copy_of(key),
                                         std::vector<TrustedLog>{{log.origin, log.verifier()}},
                                         clock);
    }
    // The note with the returned cosignature, checked with the witness's key.
    audit::CosignatureResult cosignature_on(std::int64_t size, const AddCheckpointReply& r) const {
        std::string error;
        auto parsed = audit::parse_note(log.checkpoint(size) + r.body, error);
        REQUIRE(parsed);
        return audit::check_cosignature(*parsed, key.verifier);
    }
    std::int64_t refusals() {
        SQLite::Database db((dir / "witness.db").string());
        return db.execAndGet("SELECT COUNT(*) FROM witness_refusals").getInt64();
    }
};

} // namespace

TEST_CASE("the witness cosigns a first checkpoint and then only consistent ones", "[witness]") {
    WitnessFixture f;
    f.log.grow(5);
    auto r = f.w->add_checkpoint(f.log.body(0, 5));
    INFO(r.body);
    REQUIRE(r.status == 200);
    const auto c = f.cosignature_on(5, r);
    CHECK(c.check == audit::CosignatureCheck::ok);
    CHECK(c.time == 1'800'000'000);
    CHECK(f.w->state(f.log.origin)->size == 5);

    f.log.grow(8);
    f.clock.advance(5'000);
    r = f.w->add_checkpoint(f.log.body(5, 13));
    REQUIRE(r.status == 200);
    CHECK(f.cosignature_on(13, r).time == 1'800'000'005);
    // The same checkpoint again is cosigned again (old size = its size, same root).
    CHECK(f.w->add_checkpoint(f.log.body(13, 13)).status == 200);

    // The state survives a restart.
    f.w = f.open();
    CHECK(f.w->state(f.log.origin)->size == 13);
    CHECK(f.refusals() == 0);
}

TEST_CASE("a stale old size is answered 409 with the size the witness holds", "[witness]") {
    WitnessFixture f;
    f.log.grow(4);
    REQUIRE(f.w->add_checkpoint(f.log.body(0, 4)).status == 200);
    f.log.grow(3);
    const auto r = f.w->add_checkpoint(f.log.body(0, 7));
    CHECK(r.status == 409);
    CHECK(r.content_type == "text/x.tlog.size");
    CHECK(r.body == "4\n");
    // A checkpoint smaller than the one cosigned (a rollback) cannot name the right old size.
    CHECK(f.w->add_checkpoint(f.log.body(0, 2)).status == 409);
    CHECK(f.w->add_checkpoint("old 4\n\n" + f.log.checkpoint(2)).status == 400);
}

TEST_CASE("a rewritten log is refused and the refusal kept as evidence", "[witness]") {
    WitnessFixture f;
    f.log.grow(6);
    REQUIRE(f.w->add_checkpoint(f.log.body(0, 6)).status == 200);
    // The operator rewrites entry 3 and everything after it, then grows the log.
    test::LogModel forged = f.log;
    forged.leaves.resize(3);
    forged.grow(6, "forged");
    SECTION("a proof from the cosigned size does not verify: 422") {
        const auto r = f.w->add_checkpoint(forged.body(6, 9));
        CHECK(r.status == 422);
        CHECK(f.w->state(f.log.origin)->size == 6);
    }
    SECTION("the same size with another root: 409") {
        CHECK(f.w->add_checkpoint(forged.body(6, 6)).status == 409);
    }
    CHECK(f.refusals() == 1);
}

TEST_CASE("the witness checks origin, signature and the body's form", "[witness]") {
    WitnessFixture f;
    f.log.grow(3);
    SECTION("an unknown origin: 404") {
        test::LogModel other;
        other.origin = "other.test/log";
        other.grow(3);
        CHECK(f.w->add_checkpoint(other.body(0, 3)).status == 404);
    }
    SECTION("signed by another key: 403") {
        test::LogModel impostor = f.log;
        impostor.key = std::make_shared<crypto::Ed25519Key>(crypto::Ed25519Key::generate());
        CHECK(f.w->add_checkpoint(impostor.body(0, 3)).status == 403);
    }
    SECTION("malformed bodies: 400") {
        const std::string note = f.log.checkpoint(3);
        const std::vector<std::string> bodies = {
            std::string(""),
            "old 0\n" + note,
            "old -1\n\n" + note,
            "old 01\n\n" + note,
            "new 0\n\n" + note,
            "old 0\nnot-base64\n\n" + note,
            "old 0\n\nnot a note\n",
            "old 0\n" + crypto::base64_encode(std::string(32, 'x')) + "\n\n" + note};
        for (const auto& body : bodies) {
            INFO(body);
            CHECK(f.w->add_checkpoint(body).status == 400);
        }
    }
    SECTION("more than 63 proof lines: 400") {
        std::string body = "old 1\n";
        for (int i = 0; i < 64; ++i) {
            body += crypto::base64_encode(std::string(32, 'x')) + "\n";
        }
        CHECK(f.w->add_checkpoint(body + "\n" + f.log.checkpoint(3)).status == 400);
    }
    CHECK_FALSE(f.w->state(f.log.origin));
}

TEST_CASE("the rate limiter allows a burst, then the average rate", "[witness]") {
    FakeClock clock{0};
    RateLimiter limiter(2.0, 3.0, clock);
    int taken = 0;
    while (limiter.try_take()) {
        ++taken;
    }
    CHECK(taken == 3);
    clock.advance(500);
    CHECK(limiter.try_take());
    CHECK_FALSE(limiter.try_take());
    clock.advance(10'000);
    for (int i = 0; i < 3; ++i) {
        CHECK(limiter.try_take());
    }
    CHECK_FALSE(limiter.try_take());
}

TEST_CASE("--log takes ORIGIN=VKEY whose key is named ORIGIN", "[witness]") {
    test::LogModel log;
    const std::string vkey = audit::format_verifier_key(log.verifier());
    CHECK(parse_trusted_log(log.origin + "=" + vkey).key.id == log.verifier().id);
    CHECK_THROWS_AS(parse_trusted_log("other.test/log=" + vkey), ConfigError);
    CHECK_THROWS_AS(parse_trusted_log(vkey), ConfigError);
    CHECK_THROWS_AS(parse_trusted_log(log.origin + "=garbage"), ConfigError);
}
