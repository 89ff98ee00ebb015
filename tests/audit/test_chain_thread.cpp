#include "audit/chain.hpp"
#include "audit/chain_thread.hpp"
#include "fixture.hpp"

#include <catch2/catch.hpp>
#include <vector>

using namespace lethe;
using test::make_chain;

namespace {

// More entries than the checker's batches hold at once (3 x 2048), so batches are handed over
// and reused.
constexpr int k_entries = 3 * 2048 * 2 + 17;

} // namespace

TEST_CASE("a chain checked on a second thread gives the same result as in line",
          "[audit][chain][chain_thread]") {
    const auto entries = make_chain(k_entries);
    auto inline_chain = audit::ChainVerifier::from_genesis();
    for (const auto& e : entries) {
        REQUIRE(inline_chain.add(store::view_of(e)));
    }
    REQUIRE(inline_chain.finish());

    auto threaded_chain = audit::ChainVerifier::from_genesis();
    {
        audit::ChainCheckThread checker(threaded_chain);
        for (const auto& e : entries) {
            REQUIRE(checker.add(store::view_of(e)));
        }
        checker.finish();
    }
    CHECK(threaded_chain.finish());
    CHECK_FALSE(threaded_chain.failure());
    CHECK(threaded_chain.count() == k_entries);
    CHECK(threaded_chain.last_hash() == entries.back().hash);
    CHECK(threaded_chain.last_hash() == inline_chain.last_hash());
    REQUIRE(threaded_chain.tree());
    CHECK(threaded_chain.tree()->root() == inline_chain.tree()->root());
}

TEST_CASE("a break found on the second thread is the first bad entry, and stops the caller",
          "[audit][chain][chain_thread]") {
    auto entries = make_chain(2048 * 12);
    const std::size_t bad = 2048 * 4 + 5; // in a batch that reuses an earlier one's storage
    entries[bad].detail = R"({"changed":true})";

    auto chain = audit::ChainVerifier::from_genesis();
    std::size_t added = 0;
    {
        audit::ChainCheckThread checker(chain);
        for (const auto& e : entries) {
            ++added;
            if (!checker.add(store::view_of(e))) {
                break;
            }
        }
        checker.finish();
    }
    CHECK_FALSE(chain.finish());
    REQUIRE(chain.failure());
    CHECK(chain.failure()->seq == entries[bad].seq);
    // The caller learns of the break within the batches in flight (3, and the one it fills),
    // not at the end of the log.
    CHECK(added <= bad + 4 * 2048);
}

TEST_CASE("a checker dropped without finish stops its thread", "[audit][chain][chain_thread]") {
    const auto entries = make_chain(3 * 2048 + 100);
    auto chain = audit::ChainVerifier::from_genesis();
    {
        audit::ChainCheckThread checker(chain);
        for (const auto& e : entries) {
            REQUIRE(checker.add(store::view_of(e)));
        }
    } // the destructor must join, not hang on the batches still queued
    // Whatever was checked before the stop was checked whole and in order.
    const auto checked = chain.count();
    REQUIRE(checked <= static_cast<std::int64_t>(entries.size()));
    CHECK_FALSE(chain.failure());
    if (checked > 0) {
        CHECK(chain.last_hash() == entries[static_cast<std::size_t>(checked - 1)].hash);
    }
}
