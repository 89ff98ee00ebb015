#include "fixture.hpp"
#include "store/identifier_cipher.hpp"
#include "store/requests.hpp"
#include "store/sealing.hpp"
#include "util/error.hpp"

#include <SQLiteCpp/Statement.h>
#include <catch2/catch.hpp>

using namespace lethe;

namespace {

const std::string k_old(32, '\x11');
const std::string k_new(32, '\x22');

// The stored identifier column of `request_id`, as bytes, and whether it is a blob.
std::pair<std::string, bool> stored(test::StoreFixture& f, const std::string& request_id) {
    SQLite::Statement q(f.db.db(), "SELECT identifier FROM requests WHERE request_id = ?");
    q.bind(1, request_id);
    REQUIRE(q.executeStep());
    const SQLite::Column c = q.getColumn(0);
    return {std::string(static_cast<const char*>(c.getBlob()), c.getBytes()), c.isBlob()};
}

} // namespace

TEST_CASE("identifier cipher: sealed values open only with their key and their row",
          "[store][seal]") {
    store::IdentifierCipher cipher({k_old});
    const std::string a = cipher.seal_identifier("Jane.Doe@example.com", "REQ-1");
    const std::string b = cipher.seal_identifier("Jane.Doe@example.com", "REQ-1");
    CHECK(a != b); // a fresh nonce each time
    CHECK(a.size() == 1 + 4 + 12 + 20 + 16);
    CHECK(a.find("Jane") == std::string::npos);
    CHECK(a.substr(1, 4) == cipher.current_key_id());
    CHECK(cipher.open_identifier(a, "REQ-1") == "Jane.Doe@example.com");
    // Moved to another row, changed, or opened with another key: refused, naming only the row.
    CHECK_THROWS_AS(cipher.open_identifier(a, "REQ-2"), DatabaseError);
    std::string flipped = a;
    flipped[20] = static_cast<char>(flipped[20] ^ 1);
    CHECK_THROWS_AS(cipher.open_identifier(flipped, "REQ-1"), DatabaseError);
    CHECK_THROWS_AS(cipher.open_identifier(a.substr(0, 10), "REQ-1"), DatabaseError);
    store::IdentifierCipher other({k_new});
    try {
        other.open_identifier(a, "REQ-1");
        FAIL("opened with another key");
    } catch (const DatabaseError& e) {
        CHECK(std::string(e.what()).find("request REQ-1") != std::string::npos);
        CHECK(std::string(e.what()).find("Jane") == std::string::npos);
    }
    // Profiles seal deterministically (one row per profile), bound to their erasure.
    CHECK(cipher.seal_profile("cio_abc", 7) == cipher.seal_profile("cio_abc", 7));
    CHECK(cipher.seal_profile("cio_abc", 7) != cipher.seal_profile("cio_abd", 7));
    CHECK(cipher.seal_profile("cio_abc", 7) != cipher.seal_profile("cio_abc", 8));
    CHECK(cipher.open_profile(cipher.seal_profile("cio_abc", 7), 7) == "cio_abc");
    CHECK_THROWS_AS(cipher.open_profile(cipher.seal_profile("cio_abc", 7), 8), DatabaseError);
    CHECK_THROWS_AS(store::IdentifierCipher({}), std::invalid_argument);
    CHECK_THROWS_AS(store::IdentifierCipher({"short"}), std::invalid_argument);
}

TEST_CASE("identifier cipher: after a rotation both keys open, the new one seals",
          "[store][seal]") {
    store::IdentifierCipher before({k_old});
    store::IdentifierCipher after({k_new, k_old});
    const std::string sealed_before = before.seal_identifier("555-0100", "R");
    CHECK(after.open_identifier(sealed_before, "R") == "555-0100");
    CHECK(after.seal_identifier("x", "R").substr(1, 4) == store::IdentifierCipher::key_id(k_new));
}

TEST_CASE("seal_identifiers seals plain text from before, and reseals under a new key",
          "[store][seal]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    f.insert(f.request("R2", "bob"));
    // R2 as an older lethe wrote it: plain text.
    f.db.db().exec("UPDATE requests SET identifier = 'bob' WHERE request_id = 'R2'");
    f.db.db().exec("INSERT INTO erasure_profiles (erasure, cio_id) SELECT id, 'cio_plain' FROM "
                   "erasures LIMIT 1");
    CHECK_FALSE(stored(f, "R2").second);

    auto report = store::seal_identifiers(f.db);
    CHECK(report.identifiers == 1);
    CHECK(report.profiles == 1);
    CHECK(stored(f, "R2").second);
    CHECK(f.count("SELECT count(*) FROM requests WHERE typeof(identifier) = 'text'") == 0);
    CHECK(f.count("SELECT count(*) FROM erasure_profiles WHERE typeof(cio_id) = 'text'") == 0);
    CHECK(store::seal_identifiers(f.db).identifiers == 0); // nothing left to do
    CHECK(store::holds_sealed_identifiers(f.db));

    // Rotation: the new key first, the old one kept until everything is resealed.
    store::Database rotated(f.dir / "lethe.db", store::OpenMode::existing);
    rotated.set_cipher_loader([] {
        return store::IdentifierCipher({k_new, test::StoreFixture::identifier_key()});
    });
    CHECK(store::seal_identifiers(rotated).identifiers == 2);
    store::Database new_only(f.dir / "lethe.db", store::OpenMode::existing);
    new_only.set_cipher_loader([] { return store::IdentifierCipher({k_new}); });
    store::RequestQueue queue(new_only, f.clock);
    CHECK(store::open_identifier(new_only, *queue.find("R1")) == "alice");
    CHECK(store::open_identifier(new_only, *queue.find("R2")) == "bob");
    SQLite::Statement p(new_only.db(), "SELECT erasure, cio_id FROM erasure_profiles");
    REQUIRE(p.executeStep());
    CHECK(new_only.profile_from(p.getColumn(1), p.getColumn(0).getInt64()) == "cio_plain");
}

TEST_CASE("a database without an identifier key opens, but no identifier is read or written",
          "[store][seal]") {
    test::StoreFixture f;
    f.insert(f.request("R1", "alice"));
    store::Database keyless(f.dir / "lethe.db", store::OpenMode::existing);
    store::RequestQueue queue(keyless, f.clock);
    auto row = queue.find("R1"); // listing needs no key
    REQUIRE(row);
    CHECK_THROWS_AS(store::open_identifier(keyless, *row), DatabaseError);
}
