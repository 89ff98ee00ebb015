#include "crypto/crypto.hpp"
#include "util/strings.hpp"

#include <catch2/catch.hpp>

using namespace lethe;
using namespace lethe::crypto;

TEST_CASE("SHA-256 matches the FIPS 180-2 vector", "[crypto]") {
    CHECK(to_hex(sha256("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2", "[crypto]") {
    CHECK(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    HmacSha256 keyed("Jefe");
    CHECK(keyed.mac("what do ya want for nothing?") ==
          hmac_sha256("Jefe", "what do ya want for nothing?"));
    CHECK(keyed.mac("x") != keyed.mac("y"));
}

TEST_CASE("constant_time_equal", "[crypto]") {
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "abcd"));
}

TEST_CASE("Ed25519 sign, verify and PEM round trip", "[crypto]") {
    auto key = Ed25519Key::generate();
    auto sig = key.sign("message");
    CHECK(sig.size() == 64);
    auto reloaded = Ed25519Key::from_private_pem(key.private_pem());
    CHECK(reloaded.public_raw() == key.public_raw());
    auto pub = Ed25519Key::from_public_raw(key.public_raw());
    CHECK(pub.verify("message", sig));
    CHECK_FALSE(pub.verify("messagf", sig));
    sig[0] ^= 1;
    CHECK_FALSE(pub.verify("message", sig));
    CHECK_THROWS(Ed25519Key::from_private_pem("not a key"));
}

TEST_CASE("Base64 round trip", "[crypto]") {
    CHECK(base64_encode("site:key") == "c2l0ZTprZXk=");
    std::string out;
    REQUIRE(base64_decode("c2l0ZTprZXk=", out));
    CHECK(out == "site:key");
    CHECK_FALSE(base64_decode("abc", out));
}
