#include "sandbox/http_date.hpp"

#include <array>
#include <ctime>

namespace lethe::sandbox {

std::string format_http_date(TimeMs t) {
    // Names are spelled out here rather than taken from strftime, which follows the locale.
    static constexpr std::array<const char*, 7> k_days = {"Sun", "Mon", "Tue", "Wed",
                                                          "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> k_months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t seconds = static_cast<std::time_t>((t + 999) / 1000);
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    std::array<char, 40> buf{};
    std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                  k_days.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                  k_months.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    return buf.data();
}

} // namespace lethe::sandbox
