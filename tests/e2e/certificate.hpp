#pragma once

#include "support/process.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

namespace lethe::test {

// A self-signed certificate for 127.0.0.1, made with openssl(1).
struct Certificate {
    std::filesystem::path cert;
    std::filesystem::path key;
};

// Writes NAME.crt and NAME.key into `dir`; fails the test when openssl does.
inline Certificate self_signed(const std::filesystem::path& dir,
                               const std::string& name = "sandbox") {
    Certificate c{dir / (name + ".crt"), dir / (name + ".key")};
    auto r = run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                  "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", c.key.string(), "-out",
                  c.cert.string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return c;
}

} // namespace lethe::test
