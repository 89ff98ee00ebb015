#pragma once

#include "util/clock.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace lethe {

// Parses ISO 8601: "YYYY-MM-DD", or a date and time "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "T" or a
// space, followed by "Z", "+HH:MM", "+HHMM", "+HH" (and the same with "-") or nothing (read as
// UTC). A leap second (second 60) is accepted only as the last second of a UTC day and read as
// 23:59:59.999Z of that day. Returns nullopt when the text is not such a time, names an impossible
// date, or has second 60 anywhere else.
std::optional<TimeMs> parse_iso8601(std::string_view text);

// Formats as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_iso8601_ms(TimeMs t);

// Formats as "YYYY-MM-DDTHH:MM:SSZ" (no fraction), for people.
std::string format_iso8601(TimeMs t);

// Adds calendar months, clamping the day to the end of the target month (Jan 31 + 1 = Feb 28/29);
// the time of day is kept. This is how Art. 12(3) GDPR periods are counted here.
TimeMs add_calendar_months(TimeMs t, int months);

// "3d 4h", "12m", "45s": a short human duration.
std::string format_duration(TimeMs ms);

} // namespace lethe
