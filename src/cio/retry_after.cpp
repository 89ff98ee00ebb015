#include "cio/track_client.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace lethe::cio {
namespace {

// A longer wait is a misconfigured server or proxy, not a rate limit; the cap also keeps
// `now + delay` far from overflow in the caller.
constexpr TimeMs k_max_retry_after_ms = 24LL * 60 * 60 * 1000;

constexpr std::array<std::string_view, 12> k_months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> k_days = {"Mon", "Tue", "Wed", "Thu",
                                                    "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> k_long_days = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
    static constexpr std::array<int, 12> k_len = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : k_len[static_cast<std::size_t>(m - 1)];
}

// A tiny cursor over the value; every reader fails (returns false) without consuming on
// mismatch, which keeps the three date grammars short and exact.
class Cursor {
public:
    explicit Cursor(std::string_view s) : m_s(s) {}
    bool done() const { return m_s.empty(); }
    bool lit(std::string_view t) {
        if (!m_s.starts_with(t)) {
            return false;
        }
        m_s.remove_prefix(t.size());
        return true;
    }
    bool digits(std::size_t n, int& out) {
        if (m_s.size() < n) {
            return false;
        }
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (m_s[i] < '0' || m_s[i] > '9') {
                return false;
            }
            v = v * 10 + (m_s[i] - '0');
        }
        m_s.remove_prefix(n);
        out = v;
        return true;
    }
    template <std::size_t N> bool one_of(const std::array<std::string_view, N>& names, int& index) {
        for (std::size_t i = 0; i < N; ++i) {
            if (lit(names[i])) {
                index = static_cast<int>(i);
                return true;
            }
        }
        return false;
    }

private:
    std::string_view m_s;
};

struct DateTime {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

bool time_of_day(Cursor& c, DateTime& t) {
    return c.digits(2, t.hour) && c.lit(":") && c.digits(2, t.minute) && c.lit(":") &&
           c.digits(2, t.second);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool imf_fixdate(std::string_view s, DateTime& t) {
    Cursor c(s);
    int wd = 0;
    return c.one_of(k_days, wd) && c.lit(", ") && c.digits(2, t.day) && c.lit(" ") &&
           c.one_of(k_months, t.month) && c.lit(" ") && c.digits(4, t.year) && c.lit(" ") &&
           time_of_day(c, t) && c.lit(" GMT") && c.done();
}

// "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year is read as 1970-2069.
bool rfc850_date(std::string_view s, DateTime& t) {
    Cursor c(s);
    int wd = 0;
    if (!(c.one_of(k_long_days, wd) && c.lit(", ") && c.digits(2, t.day) && c.lit("-") &&
          c.one_of(k_months, t.month) && c.lit("-") && c.digits(2, t.year) && c.lit(" ") &&
          time_of_day(c, t) && c.lit(" GMT") && c.done())) {
        return false;
    }
    t.year += t.year < 70 ? 2000 : 1900;
    return true;
}

// "Sun Nov  6 08:49:37 1994"
bool asctime_date(std::string_view s, DateTime& t) {
    Cursor c(s);
    int wd = 0;
    if (!(c.one_of(k_days, wd) && c.lit(" ") && c.one_of(k_months, t.month) && c.lit(" "))) {
        return false;
    }
    if (c.lit(" ")) {
        if (!c.digits(1, t.day)) {
            return false;
        }
    } else if (!c.digits(2, t.day)) {
        return false;
    }
    return c.lit(" ") && time_of_day(c, t) && c.lit(" ") && c.digits(4, t.year) && c.done();
}

std::optional<TimeMs> http_date_ms(std::string_view s) {
    DateTime t;
    bool ok = imf_fixdate(s, t);
    if (!ok) {
        t = DateTime{};
        ok = rfc850_date(s, t);
    }
    if (!ok) {
        t = DateTime{};
        ok = asctime_date(s, t);
    }
    if (!ok) {
        return std::nullopt;
    }
    t.month += 1; // one_of gave a 0-based index
    if (t.day < 1 || t.day > days_in_month(t.year, t.month) || t.hour > 23 || t.minute > 59 ||
        t.second > 60) {
        return std::nullopt;
    }
    const std::int64_t days =
        days_from_civil(t.year, static_cast<unsigned>(t.month), static_cast<unsigned>(t.day));
    const std::int64_t seconds = days * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
    return seconds * 1000;
}

} // namespace

std::optional<TimeMs> parse_retry_after(std::string_view value, TimeMs now_ms) {
    value = trim(value);
    if (value.empty()) {
        return std::nullopt;
    }
    if (value.find_first_not_of("0123456789") == std::string_view::npos) {
        // Too many digits for int64 is still a (very long) delay, not garbage.
        const auto seconds = parse_int64(value);
        if (!seconds || *seconds > k_max_retry_after_ms / 1000) {
            return k_max_retry_after_ms;
        }
        return *seconds * 1000;
    }
    const auto at = http_date_ms(value);
    if (!at) {
        return std::nullopt;
    }
    if (*at <= now_ms) {
        return 0;
    }
    return std::min(*at - now_ms, k_max_retry_after_ms);
}

} // namespace lethe::cio
