// libFuzzer target for the intake layer: feeds arbitrary bytes to CsvReader (with the default
// limits, and with tiny limits and read blocks so the guards and block edges are reached), checks
// the reader's invariants on every record, re-encodes each good record and checks it reads back the
// same, and runs validate_request on combinations of the fields. Any broken invariant aborts.

#include "fuzz_check.hpp"
#include "intake/csv_reader.hpp"
#include "intake/validate.hpp"
#include "util/strings.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utf8proc.h>

using namespace lethe;
using namespace lethe::intake;
using lethe::fuzz::is_message_text;

namespace {

// 2024-06-01T12:00:00Z.
constexpr TimeMs k_now = 1717243200000;

std::string quote_all(const std::vector<std::string>& fields) {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += '"';
        for (char c : fields[i]) {
            if (c == '"') {
                out += '"';
            }
            out += c;
        }
        out += '"';
    }
    out += "\r\n";
    return out;
}

// `s` with each ASCII letter and digit replaced by the next one (z→a, 9→0), keeping a leading
// "cio_" (after leading spaces and tabs) as it is, and keeping any letter or digit followed by a
// non-ASCII byte: that may be a combining mark, and whether the pair is in NFC depends on the
// letter ("e" + U+0301 composes to U+00E9, "x" + U+0301 has no composed form).
std::string twin(std::string_view s) {
    std::string out(s);
    std::size_t start = s.find_first_not_of(" \t");
    if (start == std::string_view::npos) {
        return out;
    }
    if (s.substr(start, 4) == "cio_") {
        start += 4;
    }
    for (std::size_t i = start; i < out.size(); ++i) {
        char& c = out[i];
        if (i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) >= 0x80) {
            continue;
        }
        if (c >= 'a' && c <= 'z') {
            c = c == 'z' ? 'a' : static_cast<char>(c + 1);
        } else if (c >= 'A' && c <= 'Z') {
            c = c == 'Z' ? 'A' : static_cast<char>(c + 1);
        } else if (c >= '0' && c <= '9') {
            c = c == '9' ? '0' : static_cast<char>(c + 1);
        }
    }
    return out;
}

// True when `s` is its own NFC, checked apart from validate.cpp's own code.
bool is_nfc(const std::string& s) {
    struct Free {
        void operator()(utf8proc_uint8_t* p) const { std::free(p); }
    };
    std::unique_ptr<utf8proc_uint8_t, Free> nfc(
        utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(s.c_str())));
    FUZZ_CHECK(nfc != nullptr);
    return s == reinterpret_cast<const char*>(nfc.get());
}

void check_validation(const RawRequest& raw) {
    Validation v = validate_request(raw, k_now);
    FUZZ_CHECK(v.request.has_value() != !v.reason.empty());
    if (!v.request) {
        FUZZ_CHECK(is_message_text(v.reason));
        // Leak check: the same request with every letter and digit of the identifier changed
        // (the "cio_" prefix aside, which decides the inferred type) must be rejected with the
        // same words. Validation depends only on lengths, '@', dots, spaces, UTF-8, the
        // non-ASCII characters, NFC and letter-or-digit-ness, all of which twin() keeps.
        RawRequest other = raw;
        other.identifier = twin(raw.identifier);
        Validation w = validate_request(other, k_now);
        FUZZ_CHECK(!w.request.has_value());
        FUZZ_CHECK(w.reason == v.reason);
        return;
    }
    const ValidRequest& r = *v.request;
    FUZZ_CHECK(!r.identifier.empty() && r.identifier.size() <= k_max_identifier_bytes);
    FUZZ_CHECK(r.identifier == trim(r.identifier));
    FUZZ_CHECK(is_valid_utf8(r.identifier) && !has_control_chars(r.identifier));
    FUZZ_CHECK(is_nfc(r.identifier));
    if (trim(raw.id_type).empty()) {
        FUZZ_CHECK(r.id_type == infer_id_type(r.identifier));
    }
    if (r.id_type == IdType::email) {
        std::size_t at = r.identifier.find('@');
        FUZZ_CHECK(at != std::string::npos && at > 0 && at <= k_max_email_local_bytes);
        FUZZ_CHECK(r.identifier.find('@', at + 1) == std::string::npos);
        FUZZ_CHECK(r.identifier.find(' ') == std::string::npos);
        FUZZ_CHECK(r.identifier.find("..") == std::string::npos);
    }
    if (r.id_type == IdType::cio_id) {
        FUZZ_CHECK(r.identifier.rfind("cio_", 0) == 0 && r.identifier.size() > 4);
    }
    FUZZ_CHECK(r.request_id.size() <= k_max_request_id_bytes);
    FUZZ_CHECK(r.request_id == trim(r.request_id));
    FUZZ_CHECK(is_valid_utf8(r.request_id) && !has_control_chars(r.request_id));
    FUZZ_CHECK(is_nfc(r.request_id));
    FUZZ_CHECK(r.request_id.empty() == trim(raw.request_id).empty());
    FUZZ_CHECK(r.received_at.has_value() == !trim(raw.received_at).empty());
    if (r.received_at) {
        FUZZ_CHECK(*r.received_at >= k_earliest_received_at_ms);
        FUZZ_CHECK(*r.received_at <= k_now + k_clock_skew_tolerance_ms);
    }
}

void check_fields_as_requests(const std::vector<std::string>& f) {
    auto at = [&](std::size_t i) {
        return i < f.size() ? f[i] : std::string();
    };
    check_validation({at(0), at(1), at(2), at(3)});
    check_validation({at(0), "", "", ""});
    check_validation({at(0), "email", at(1), ""});
    check_validation({at(0), "cio_id", "", at(1)});
    check_validation({at(1), "ID", at(0), at(2)});
}

// Reads `input` to the end with `limits`, checking every record.
void read_checked(const std::string& input, const CsvLimits& limits, bool validate) {
    std::size_t breaks = 0;
    for (std::size_t i = 0; i < input.size(); ++i) {
        if (input[i] == '\n' ||
            (input[i] == '\r' && (i + 1 == input.size() || input[i + 1] != '\n'))) {
            ++breaks;
        }
    }

    std::istringstream in(input);
    CsvReader reader(in, limits);
    CsvRecord rec;
    std::size_t last_line = 0;
    std::size_t last_bytes = 0;
    while (reader.next(rec)) {
        // Each record starts on a later line than the one before: records end at line breaks.
        FUZZ_CHECK(rec.line > last_line);
        FUZZ_CHECK(rec.line >= 1 && rec.line <= breaks + 1);
        last_line = rec.line;
        FUZZ_CHECK(reader.bytes_read() > last_bytes && reader.bytes_read() <= input.size());
        last_bytes = reader.bytes_read();

        if (!rec.error.empty()) {
            FUZZ_CHECK(rec.fields.empty());
            FUZZ_CHECK(is_message_text(rec.error));
            continue;
        }
        FUZZ_CHECK(!rec.fields.empty() && rec.fields.size() <= limits.max_fields);
        std::size_t total = 0;
        for (const auto& field : rec.fields) {
            FUZZ_CHECK(field.size() <= limits.max_field_bytes);
            FUZZ_CHECK(field.find('\0') == std::string::npos);
            total += field.size();
        }
        FUZZ_CHECK(total <= limits.max_record_bytes);

        // Round trip: every field quoted reads back as the same record.
        std::istringstream again(quote_all(rec.fields));
        CsvLimits again_limits = limits;
        again_limits.read_block_bytes = 61; // small and odd: cheap, and moves the block edges
        CsvReader reader2(again, again_limits);
        CsvRecord rec2;
        FUZZ_CHECK(reader2.next(rec2));
        FUZZ_CHECK(rec2.error.empty());
        FUZZ_CHECK(rec2.fields == rec.fields);
        FUZZ_CHECK(rec2.line == 1);
        FUZZ_CHECK(!reader2.next(rec2));

        if (validate) {
            check_fields_as_requests(rec.fields);
        }
    }
    FUZZ_CHECK(reader.bytes_read() == input.size());
    FUZZ_CHECK(!reader.io_error());
    FUZZ_CHECK(!reader.next(rec)); // stays at the end
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    read_checked(input, CsvLimits{}, true);

    CsvLimits tiny;
    tiny.max_field_bytes = 16;
    tiny.max_fields = 6;
    tiny.max_record_bytes = 40;
    tiny.read_block_bytes = 1 + size % 7; // block edges everywhere
    read_checked(input, tiny, false);
    return 0;
}
