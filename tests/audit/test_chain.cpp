#include "audit/chain.hpp"
#include "fixture.hpp"

#include <catch2/catch.hpp>
#include <vector>

using namespace lethe;
using test::make_chain;

namespace {

// Feeds the entries to `v` and returns the seq of the first failure (0: none).
std::int64_t run(audit::ChainVerifier v, const std::vector<store::AuditEntry>& entries) {
    for (const auto& e : entries) {
        if (!v.add(store::view_of(e))) {
            break;
        }
    }
    v.finish();
    return v.failure() ? v.failure()->seq : 0;
}

} // namespace

TEST_CASE("a valid chain verifies", "[audit][chain]") {
    auto chain = make_chain(5);
    auto v = audit::ChainVerifier::from_genesis();
    for (const auto& e : chain) {
        REQUIRE(v.add(store::view_of(e)));
    }
    CHECK(v.finish());
    CHECK(v.count() == 5);
    CHECK(v.last_hash() == chain.back().hash);
}

TEST_CASE("the chain verifier names the first bad entry", "[audit][chain]") {
    auto chain = make_chain(6);
    SECTION("a changed field") {
        chain[2].detail = R"({"changed":true})";
        CHECK(run(audit::ChainVerifier::from_genesis(), chain) == 3);
    }
    SECTION("a changed entry with its hash recomputed breaks the link of the next") {
        chain[2].detail = "{ }";
        chain[2].hash = store::audit_entry_hash(chain[2]);
        CHECK(run(audit::ChainVerifier::from_genesis(), chain) == 4);
    }
    SECTION("a removed entry is a gap") {
        chain.erase(chain.begin() + 3);
        CHECK(run(audit::ChainVerifier::from_genesis(), chain) == 4);
    }
    SECTION("a first entry that does not start from the genesis hash") {
        chain.erase(chain.begin());
        CHECK(run(audit::ChainVerifier::from_genesis(), chain) == 1);
    }
    SECTION("a malformed hash") {
        chain[1].hash = "XYZ";
        CHECK(run(audit::ChainVerifier::from_genesis(), chain) == 2);
    }
    SECTION("an anchored range checks its first link") {
        std::vector<store::AuditEntry> tail(chain.begin() + 3, chain.end());
        CHECK(run(audit::ChainVerifier::anchored(4, chain[2].hash), tail) == 0);
        CHECK(run(audit::ChainVerifier::anchored(4, chain[1].hash), tail) == 4);
    }
}

TEST_CASE("the chain verifier compares with expected checkpoints", "[audit][chain]") {
    auto chain = make_chain(6);
    SECTION("a matching checkpoint") {
        auto v = audit::ChainVerifier::from_genesis();
        v.expect(4, chain[3].hash, "", "cp");
        CHECK(run(std::move(v), chain) == 0);
    }
    SECTION("a rewritten log differs from the checkpoint at its size") {
        // Rewritten from seq 3 on, every hash recomputed: only the checkpoint can tell.
        chain[2].detail = R"({"rewritten":1})";
        for (std::size_t i = 2; i < chain.size(); ++i) {
            chain[i].prev_hash = chain[i - 1].hash;
            chain[i].hash = store::audit_entry_hash(chain[i]);
        }
        CHECK(run(audit::ChainVerifier::from_genesis(), chain) == 0);
        auto v = audit::ChainVerifier::from_genesis();
        v.expect(4, make_chain(6)[3].hash, "", "cp");
        CHECK(run(std::move(v), chain) == 4);
    }
    SECTION("entries removed from the end") {
        auto v = audit::ChainVerifier::from_genesis();
        v.expect(6, chain[5].hash, "", "cp");
        chain.resize(4);
        CHECK(run(std::move(v), chain) == 5);
    }
    SECTION("a checkpoint of the empty log") {
        auto v = audit::ChainVerifier::from_genesis();
        v.expect(0, std::string(store::k_genesis_hash), "", "cp");
        CHECK(run(std::move(v), chain) == 0);
    }
}
