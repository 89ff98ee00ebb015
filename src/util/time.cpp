#include "util/time.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace lethe {
namespace {

using namespace std::chrono;

// Reads exactly `width` digits at `pos`; advances pos.
bool read_digits(std::string_view s, std::size_t& pos, int width, int& out) {
    if (pos + width > s.size()) {
        return false;
    }
    int value = 0;
    for (int i = 0; i < width; ++i) {
        char c = s[pos + i];
        if (c < '0' || c > '9') {
            return false;
        }
        value = value * 10 + (c - '0');
    }
    pos += width;
    out = value;
    return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

// Parses "[:SS[.fff...]]" after HH:MM; fills seconds and milliseconds.
bool read_seconds(std::string_view s, std::size_t& pos, int& sec, int& ms) {
    sec = 0;
    ms = 0;
    if (!expect(s, pos, ':')) {
        return true;
    }
    // 60 is a leap second (ISO 8601 allows it); parse_iso8601 checks where it falls.
    if (!read_digits(s, pos, 2, sec) || sec > 60) {
        return false;
    }
    if (!expect(s, pos, '.') && !expect(s, pos, ',')) {
        return true;
    }
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 3) {
            ms = ms * 10 + (s[pos] - '0');
        }
        ++digits;
        ++pos;
    }
    for (int i = digits; i < 3; ++i) {
        ms *= 10;
    }
    return digits > 0;
}

// Parses "Z", "+HH:MM", "-HH:MM", "+HHMM", "+HH" or nothing; returns the offset east of UTC in
// minutes.
bool read_offset(std::string_view s, std::size_t& pos, int& offset_min) {
    offset_min = 0;
    if (pos == s.size()) {
        return true;
    }
    if (expect(s, pos, 'Z') || expect(s, pos, 'z')) {
        return pos == s.size();
    }
    int sign = 0;
    if (expect(s, pos, '+')) {
        sign = 1;
    } else if (expect(s, pos, '-')) {
        sign = -1;
    } else {
        return false;
    }
    int hh = 0;
    int mm = 0;
    if (!read_digits(s, pos, 2, hh) || hh > 23) {
        return false;
    }
    // ISO 8601 allows the hours alone ("+05"); a colon must be followed by minutes.
    if (pos < s.size()) {
        expect(s, pos, ':');
        if (!read_digits(s, pos, 2, mm) || mm > 59) {
            return false;
        }
    }
    offset_min = sign * (hh * 60 + mm);
    return pos == s.size();
}

} // namespace

std::optional<TimeMs> parse_iso8601(std::string_view s) {
    std::size_t pos = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0, offset = 0;
    if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-') || !read_digits(s, pos, 2, mo) ||
        !expect(s, pos, '-') || !read_digits(s, pos, 2, d)) {
        return std::nullopt;
    }
    year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!date.ok()) {
        return std::nullopt;
    }
    if (pos < s.size()) {
        if (!expect(s, pos, 'T') && !expect(s, pos, 't') && !expect(s, pos, ' ')) {
            return std::nullopt;
        }
        if (!read_digits(s, pos, 2, h) || !expect(s, pos, ':') || !read_digits(s, pos, 2, mi) ||
            h > 23 || mi > 59 || !read_seconds(s, pos, sec, ms) || !read_offset(s, pos, offset)) {
            return std::nullopt;
        }
    }
    if (sec == 60) {
        // A leap second exists only as the last second of a UTC day (23:59:60Z, or the same
        // instant in another offset). Unix time has no place for it: it is read as the last
        // millisecond of that day, 23:59:59.999Z, which keeps its date (the day the person asked)
        // and its order before the next day. Anywhere else second 60 is refused.
        auto last = sys_days{date} + hours{h} + minutes{mi} + seconds{59} - minutes{offset};
        if (last - floor<days>(last) != hours{23} + minutes{59} + seconds{59}) {
            return std::nullopt;
        }
        return duration_cast<milliseconds>((last + milliseconds{999}).time_since_epoch()).count();
    }
    auto tp =
        sys_days{date} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms} - minutes{offset};
    return duration_cast<milliseconds>(tp.time_since_epoch()).count();
}

std::string format_iso8601_ms(TimeMs t) {
    sys_time<milliseconds> tp{milliseconds{t}};
    auto days = floor<std::chrono::days>(tp);
    year_month_day date{days};
    hh_mm_ss<milliseconds> tod{tp - days};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(date.year()),
                  unsigned(date.month()), unsigned(date.day()), int(tod.hours().count()),
                  int(tod.minutes().count()), int(tod.seconds().count()),
                  int(tod.subseconds().count()));
    return buf;
}

std::string format_iso8601(TimeMs t) {
    std::string s = format_iso8601_ms(t);
    return s.substr(0, 19) + "Z";
}

TimeMs add_calendar_months(TimeMs t, int months) {
    sys_time<milliseconds> tp{milliseconds{t}};
    auto days = floor<std::chrono::days>(tp);
    auto time_of_day = tp - days;
    year_month_day date{days};
    year_month_day shifted = date + std::chrono::months{months};
    if (!shifted.ok()) {
        shifted = year_month_day_last{shifted.year(), month_day_last{shifted.month()}};
    }
    return duration_cast<milliseconds>((sys_days{shifted} + time_of_day).time_since_epoch())
        .count();
}

std::string format_duration(TimeMs ms) {
    bool negative = ms < 0;
    TimeMs s = (negative ? -ms : ms) / 1000;
    char buf[64];
    if (s >= 86400) {
        std::snprintf(buf, sizeof buf, "%lldd %lldh", (long long)(s / 86400),
                      (long long)(s % 86400 / 3600));
    } else if (s >= 3600) {
        std::snprintf(buf, sizeof buf, "%lldh %lldm", (long long)(s / 3600),
                      (long long)(s % 3600 / 60));
    } else if (s >= 60) {
        std::snprintf(buf, sizeof buf, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
    } else {
        std::snprintf(buf, sizeof buf, "%llds", (long long)s);
    }
    return negative ? std::string("-") + buf : std::string(buf);
}

} // namespace lethe
