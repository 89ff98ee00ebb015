#include "util/time.hpp"

#include <catch2/catch.hpp>

using namespace lethe;

TEST_CASE("parse_iso8601 reads dates, times and offsets", "[util][time]") {
    CHECK(parse_iso8601("1970-01-01") == 0);
    CHECK(parse_iso8601("1970-01-01T00:00:01Z") == 1000);
    CHECK(parse_iso8601("1970-01-01 00:00:01.5") == 1500);
    CHECK(parse_iso8601("1970-01-01T01:00:00+01:00") == 0);
    CHECK(parse_iso8601("1970-01-01T00:00:00-0130") == 90 * 60 * 1000);
    CHECK(parse_iso8601("2024-02-29T12:00:00Z").has_value());
}

TEST_CASE("parse_iso8601 rejects malformed and impossible times", "[util][time]") {
    for (const char* bad : {"", "2023-02-29", "2024-13-01", "2024-1-01", "2024-01-01T25:00",
                            "2024-01-01T10:00:00+25:00", "2024-01-01T10:00:00Zjunk", "yesterday",
                            "2024-01-01T10:00:61", "2024-01-01T10:00:00."}) {
        INFO(bad);
        CHECK_FALSE(parse_iso8601(bad).has_value());
    }
}

TEST_CASE("format_iso8601_ms round-trips", "[util][time]") {
    auto t = *parse_iso8601("2026-11-22T20:44:17.123Z");
    CHECK(format_iso8601_ms(t) == "2026-11-22T20:44:17.123Z");
    CHECK(format_iso8601(t) == "2026-11-22T20:44:17Z");
}

TEST_CASE("add_calendar_months clamps to the end of the month", "[util][time]") {
    auto jan31 = *parse_iso8601("2025-01-31T10:00:00Z");
    CHECK(format_iso8601(add_calendar_months(jan31, 1)) == "2025-02-28T10:00:00Z");
    CHECK(format_iso8601(add_calendar_months(jan31, 3)) == "2025-04-30T10:00:00Z");
    auto leap = *parse_iso8601("2024-01-31T00:00:00Z");
    CHECK(format_iso8601(add_calendar_months(leap, 1)) == "2024-02-29T00:00:00Z");
    auto mid = *parse_iso8601("2025-12-15T08:30:00Z");
    CHECK(format_iso8601(add_calendar_months(mid, 1)) == "2026-01-15T08:30:00Z");
}

TEST_CASE("parse_iso8601 takes an offset of hours alone, as ISO 8601 allows", "[util][time]") {
    CHECK(parse_iso8601("1970-01-01T05:00:00+05") == 0);
    CHECK(parse_iso8601("1970-01-01T00:00:00-05") == 5 * 3600 * 1000);
    CHECK(parse_iso8601("1970-01-01T05:00+05") == 0);
    for (const char* bad : {"1970-01-01T05:00:00+5", "1970-01-01T05:00:00+05:",
                            "1970-01-01T05:00:00+05:0", "1970-01-01T05:00:00+24"}) {
        INFO(bad);
        CHECK_FALSE(parse_iso8601(bad).has_value());
    }
}

TEST_CASE("a leap second is read as the last millisecond of its UTC day, and only there",
          "[util][time]") {
    const auto last_ms = *parse_iso8601("2016-12-31T23:59:59.999Z");
    CHECK(parse_iso8601("2016-12-31T23:59:60Z") == last_ms);
    CHECK(parse_iso8601("2016-12-31T23:59:60.5Z") == last_ms);
    CHECK(parse_iso8601("2016-12-31 23:59:60") == last_ms);
    // The same instant in another offset.
    CHECK(parse_iso8601("2017-01-01T05:29:60+05:30") == last_ms);
    CHECK(parse_iso8601("2016-12-31T18:59:60-05") == last_ms);
    CHECK(format_iso8601(last_ms) == "2016-12-31T23:59:59Z");
    // Second 60 anywhere but the last minute of a UTC day is no leap second.
    for (const char* bad : {"2016-12-31T12:00:60Z", "2016-12-31T23:58:60Z",
                            "2016-12-31T23:59:60+01:00", "2016-12-31T23:59:61Z"}) {
        INFO(bad);
        CHECK_FALSE(parse_iso8601(bad).has_value());
    }
}
