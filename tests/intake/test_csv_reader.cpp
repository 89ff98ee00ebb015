#include "intake/csv_reader.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

using namespace lethe::intake;
using Fields = std::vector<std::string>;

namespace {

std::vector<CsvRecord> read_all(const std::string& input, CsvLimits limits = {}) {
    std::istringstream in(input);
    CsvReader reader(in, limits);
    std::vector<CsvRecord> out;
    CsvRecord rec;
    while (reader.next(rec)) {
        out.push_back(rec);
    }
    CHECK(reader.bytes_read() == input.size());
    CHECK_FALSE(reader.io_error());
    return out;
}

} // namespace

TEST_CASE("csv: plain records, line numbers and trailing empty fields", "[intake][csv]") {
    auto recs = read_all("a,b,c\n1,2,3\n,x,\n");
    REQUIRE(recs.size() == 3);
    CHECK(recs[0].fields == Fields{"a", "b", "c"});
    CHECK(recs[0].line == 1);
    CHECK(recs[1].fields == Fields{"1", "2", "3"});
    CHECK(recs[1].line == 2);
    CHECK(recs[2].fields == Fields{"", "x", ""});
    CHECK(recs[2].line == 3);
    for (const auto& r : recs) {
        CHECK(r.error.empty());
    }
}

TEST_CASE("csv: empty input and input of only line breaks give no records", "[intake][csv]") {
    CHECK(read_all("").empty());
    CHECK(read_all("\n\r\n\r\n").empty());
    CHECK(read_all("\xEF\xBB\xBF").empty());
}

TEST_CASE("csv: quoted fields hold commas, doubled quotes and line breaks", "[intake][csv]") {
    auto recs = read_all("\"a,b\",\"say \"\"hi\"\"\",\"\"\n"
                         "\"line1\nline2\",\"cr\rlf\r\nend\",x\n"
                         "next,\"\"\"\"\n");
    REQUIRE(recs.size() == 3);
    CHECK(recs[0].fields == Fields{"a,b", "say \"hi\"", ""});
    CHECK(recs[0].line == 1);
    CHECK(recs[1].fields == Fields{"line1\nline2", "cr\rlf\r\nend", "x"});
    CHECK(recs[1].line == 2);
    // line1\n (2→3), cr\r (3→4), lf\r\n (4→5), x\n (5→6): the next record starts on line 6.
    CHECK(recs[2].fields == Fields{"next", "\""});
    CHECK(recs[2].line == 6);
}

TEST_CASE("csv: LF, CRLF, lone CR and mixed line ends", "[intake][csv]") {
    for (const char* eol : {"\n", "\r\n", "\r"}) {
        INFO("eol " << (eol[0] == '\n' ? "LF" : eol[1] ? "CRLF" : "CR"));
        std::string input = std::string("a,b") + eol + "c,d" + eol + "e,f" + eol;
        auto recs = read_all(input);
        REQUIRE(recs.size() == 3);
        CHECK(recs[0].fields == Fields{"a", "b"});
        CHECK(recs[2].fields == Fields{"e", "f"});
        CHECK(recs[2].line == 3);
    }
    auto mixed = read_all("a\r\nb\nc\rd\r\n\"e\"\r\n");
    REQUIRE(mixed.size() == 5);
    for (std::size_t i = 0; i < mixed.size(); ++i) {
        CHECK(mixed[i].line == i + 1);
        CHECK(mixed[i].fields == Fields{std::string(1, static_cast<char>('a' + i))});
    }
}

TEST_CASE("csv: a UTF-8 BOM at the start is skipped, elsewhere it is data", "[intake][csv]") {
    auto recs = read_all("\xEF\xBB\xBFidentifier,x\n\xEF\xBB\xBFy,z\n");
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].fields == Fields{"identifier", "x"});
    CHECK(recs[1].fields == Fields{"\xEF\xBB\xBFy", "z"});
    auto quoted = read_all("\xEF\xBB\xBF\"q\"");
    REQUIRE(quoted.size() == 1);
    CHECK(quoted[0].fields == Fields{"q"});
}

TEST_CASE("csv: the last record needs no line break", "[intake][csv]") {
    auto recs = read_all("a,b\nc,d");
    REQUIRE(recs.size() == 2);
    CHECK(recs[1].fields == Fields{"c", "d"});
    auto quoted = read_all("a,\"b\"");
    REQUIRE(quoted.size() == 1);
    CHECK(quoted[0].fields == Fields{"a", "b"});
    auto trailing_comma = read_all("a,");
    REQUIRE(trailing_comma.size() == 1);
    CHECK(trailing_comma[0].fields == Fields{"a", ""});
}

TEST_CASE("csv: empty lines are skipped but counted", "[intake][csv]") {
    auto recs = read_all("\n\na\n\r\n\nb\r\n\n");
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].line == 3);
    CHECK(recs[1].line == 6);
    // A line holding only spaces or a quoted empty field is a record, not an empty line.
    auto kept = read_all(" \n\"\"\n");
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].fields == Fields{" "});
    CHECK(kept[1].fields == Fields{""});
}

TEST_CASE("csv: a bare quote in an unquoted field is an error, then resync", "[intake][csv]") {
    auto recs = read_all("ok,1\nab\"c,\"d\ne,f\n");
    REQUIRE(recs.size() == 3);
    CHECK(recs[1].line == 2);
    CHECK(recs[1].fields.empty());
    CHECK_THAT(recs[1].error, Catch::StartsWith("bare quote in unquoted field (column 1)"));
    // The quote after the error does not open a field: reading resumes on line 3.
    CHECK(recs[2].error.empty());
    CHECK(recs[2].line == 3);
    CHECK(recs[2].fields == Fields{"e", "f"});
    // A space before an opening quote makes the quote bare (RFC 4180 is strict here).
    auto spaced = read_all("a, \"b\"\n");
    REQUIRE(spaced.size() == 1);
    CHECK_THAT(spaced[0].error, Catch::StartsWith("bare quote in unquoted field (column 2)"));
}

TEST_CASE("csv: characters after a closing quote are an error, then resync", "[intake][csv]") {
    auto recs = read_all("\"a\"b,c\r\n\"x\" ,y\nok\n");
    REQUIRE(recs.size() == 3);
    CHECK(recs[0].line == 1);
    CHECK_THAT(recs[0].error,
               Catch::StartsWith("unexpected character after closing quote (column 1)"));
    CHECK(recs[1].line == 2);
    CHECK_THAT(recs[1].error,
               Catch::StartsWith("unexpected character after closing quote (column 1)"));
    CHECK(recs[2].fields == Fields{"ok"});
    CHECK(recs[2].line == 3);
    // In a multi-line record the message names the physical line too.
    auto multi = read_all("a,\"b\nc\"d\nok\n");
    REQUIRE(multi.size() == 2);
    CHECK(multi[0].line == 1);
    CHECK_THAT(multi[0].error, Catch::Contains("(column 2, line 2)"));
    CHECK(multi[1].line == 3);
}

TEST_CASE("csv: an unterminated quoted field is reported with its start line", "[intake][csv]") {
    auto recs = read_all("a,b\nc,\"open\nmore\nstill\n");
    REQUIRE(recs.size() == 2);
    CHECK(recs[1].line == 2);
    CHECK(recs[1].error == "unterminated quoted field starting at line 2");
    CHECK(recs[1].fields.empty());
    auto later = read_all("x,\"ok\ny\",\"open");
    REQUIRE(later.size() == 1);
    CHECK(later[0].line == 1);
    CHECK(later[0].error == "unterminated quoted field starting at line 2");
}

TEST_CASE("csv: NUL bytes are errors", "[intake][csv]") {
    std::string unquoted("a,b\x00"
                         "c,d\ne\n",
                         10);
    auto recs = read_all(unquoted);
    REQUIRE(recs.size() == 2);
    CHECK_THAT(recs[0].error, Catch::StartsWith("NUL byte in column 2"));
    CHECK(recs[1].fields == Fields{"e"});
    CHECK(recs[1].line == 2);

    // Inside quotes the record still ends where its closing quote says.
    std::string quoted("\"a\x00\nb\",c\nd\n", 11);
    auto q = read_all(quoted);
    REQUIRE(q.size() == 2);
    CHECK(q[0].line == 1);
    CHECK_THAT(q[0].error, Catch::StartsWith("NUL byte in column 1"));
    CHECK(q[1].fields == Fields{"d"});
    CHECK(q[1].line == 3);
}

TEST_CASE("csv: over-long fields and records are errors, then resync", "[intake][csv]") {
    CsvLimits limits;
    limits.max_field_bytes = 8;
    limits.max_fields = 3;
    limits.max_record_bytes = 12;

    auto recs = read_all("12345678,x\n123456789,x\nok\n\"123456789\nstill\",x\nlast\n", limits);
    REQUIRE(recs.size() == 5);
    CHECK(recs[0].fields == Fields{"12345678", "x"});
    CHECK(recs[1].line == 2);
    CHECK(recs[1].error == "field in column 1 is longer than 8 bytes");
    CHECK(recs[2].fields == Fields{"ok"});
    CHECK(recs[3].line == 4);
    CHECK_THAT(recs[3].error, Catch::StartsWith("field in column 1 is longer than 8 bytes"));
    CHECK_THAT(recs[3].error, Catch::Contains("opened on line 4 missing?"));
    CHECK(recs[4].fields == Fields{"last"});
    CHECK(recs[4].line == 6);

    auto wide = read_all("a,b,c\na,b,c,d\ne\n", limits);
    REQUIRE(wide.size() == 3);
    CHECK(wide[0].error.empty());
    CHECK(wide[1].error == "record has more than 3 fields");
    CHECK(wide[2].fields == Fields{"e"});

    auto big = read_all("12345678,12345678\nf\n", limits);
    REQUIRE(big.size() == 2);
    CHECK(big[0].error == "record is longer than 12 bytes");
    CHECK(big[1].fields == Fields{"f"});
}

TEST_CASE("csv: the default limits are 1 MiB per field and 1000 fields", "[intake][csv]") {
    std::string ok(1024 * 1024, 'x');
    std::string too_long(1024 * 1024 + 1, 'x');
    auto recs = read_all(ok + "\n\"" + too_long + "\"\nend\n");
    REQUIRE(recs.size() == 3);
    CHECK(recs[0].error.empty());
    CHECK(recs[0].fields[0].size() == ok.size());
    CHECK_THAT(recs[1].error, Catch::StartsWith("field in column 1 is longer than 1048576 bytes"));
    CHECK(recs[2].fields == Fields{"end"});
    CHECK(recs[2].line == 3);

    std::string thousand(999, ',');
    auto wide = read_all(thousand + "\n," + thousand + "\n");
    REQUIRE(wide.size() == 2);
    CHECK(wide[0].fields.size() == 1000);
    CHECK(wide[1].error == "record has more than 1000 fields");
}

TEST_CASE("csv: records are the same wherever the 64 KiB block boundary falls", "[intake][csv]") {
    // Every byte of the sample is placed on the boundary once: CRLF, doubled quotes, a closing
    // quote followed by a comma, the very end of input.
    const std::string sample = "\"a\"\"b\",\"c\r\nd\"\r\nx,y\r\n\r\n\"q\"\r\nbad\"q\nz";
    auto expected = read_all(sample);
    REQUIRE(expected.size() == 5);
    for (std::size_t pad = 65536 - sample.size() - 2; pad <= 65536; ++pad) {
        INFO("padding " << pad);
        std::string input = std::string(pad, 'p') + "\n" + sample;
        auto recs = read_all(input);
        REQUIRE(recs.size() == expected.size() + 1);
        for (std::size_t i = 0; i < expected.size(); ++i) {
            CHECK(recs[i + 1].fields == expected[i].fields);
            CHECK(recs[i + 1].error == expected[i].error);
            CHECK(recs[i + 1].line == expected[i].line + 1);
        }
    }
}

TEST_CASE("csv: records are the same for any read block size", "[intake][csv]") {
    const std::string samples[] = {
        "\xEF\xBB\xBFid,x\r\n\"a\"\"b\",\"c\r\nd\"\r\n\r\nbad\"q\n\"q\"z\nlast",
        "\xEF\xBB\xBF",
        "\xEF\xBB",
        "\xEF\xBB\xBF\xEF\xBB\xBF\n",
        "\"unterminated\r\n,\"\"\r",
        std::string("a\0b\n\"c\0\nd\"\ne\r", 13),
    };
    for (const auto& sample : samples) {
        auto expected = read_all(sample);
        for (std::size_t block = 1; block <= 9; ++block) {
            INFO("sample " << sample << ", block " << block);
            CsvLimits limits;
            limits.read_block_bytes = block;
            auto recs = read_all(sample, limits);
            REQUIRE(recs.size() == expected.size());
            for (std::size_t i = 0; i < recs.size(); ++i) {
                CHECK(recs[i].fields == expected[i].fields);
                CHECK(recs[i].error == expected[i].error);
                CHECK(recs[i].line == expected[i].line);
            }
        }
    }
}

TEST_CASE("csv: a reused record does not keep fields of the previous one", "[intake][csv]") {
    std::istringstream in("a,b,c\nd\n\"e\"x\nf,g\n");
    CsvReader reader(in);
    CsvRecord rec;
    REQUIRE(reader.next(rec));
    CHECK(rec.fields.size() == 3);
    REQUIRE(reader.next(rec));
    CHECK(rec.fields == Fields{"d"});
    REQUIRE(reader.next(rec));
    CHECK_FALSE(rec.error.empty());
    CHECK(rec.fields.empty());
    REQUIRE(reader.next(rec));
    CHECK(rec.error.empty());
    CHECK(rec.fields == Fields{"f", "g"});
    CHECK_FALSE(reader.next(rec));
    CHECK_FALSE(reader.next(rec));
}

TEST_CASE("csv: bytes_read follows the records returned", "[intake][csv]") {
    std::istringstream in("\xEF\xBB\xBF"
                          "ab,c\r\nd\n");
    CsvReader reader(in);
    CsvRecord rec;
    REQUIRE(reader.next(rec));
    CHECK(reader.bytes_read() == 9);
    REQUIRE(reader.next(rec));
    CHECK(reader.bytes_read() == 11);
    CHECK_FALSE(reader.next(rec));
}

// Hidden from a plain run (runs with "[intake]" or "[csv-perf]"): the timing depends on the build
// type and the machine.
TEST_CASE("csv: one million rows of about 80 bytes", "[intake][.csv-perf]") {
    std::string input;
    input.reserve(82'000'000);
    input += "identifier,request_id,id_type,received_at\n";
    for (int i = 0; i < 1'000'000; ++i) {
        input += "person." + std::to_string(i) + "@example.com,ZD-TICKET-" + std::to_string(i) +
                 "-erasure,email,\"2024-05-01T09:30:00.000Z\"\n";
    }
    std::istringstream in(input);
    CsvReader reader(in);
    CsvRecord rec;
    std::size_t rows = 0;
    auto start = std::chrono::steady_clock::now();
    while (reader.next(rec)) {
        ++rows;
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    WARN("parsed " << rows << " rows (" << input.size() / 1'000'000 << " MB) in " << ms << " ms");
    CHECK(rows == 1'000'001);
    CHECK(ms < 1000);
}
