#pragma once

// Checks shared by the libFuzzer targets.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace lethe::fuzz {

[[noreturn]] inline void violated(const char* file, int line, const char* what) {
    std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
    std::abort();
}

// Messages (CSV errors, validation and body reasons) are built only from fixed text, numbers,
// plain field names and parsed dates, so they use a small alphabet. A message holding any other
// byte echoes input, which may be personal data. '+' is for the "U+00A0" that names a refused
// character: a single invisible or unassigned code point, not the value.
inline bool is_message_text(std::string_view s) {
    static constexpr std::string_view k_punct = " '\"();,:.-_@?+";
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  k_punct.find(c) != std::string_view::npos;
        if (!ok) {
            return false;
        }
    }
    return !s.empty();
}

} // namespace lethe::fuzz

// Unlike assert(), always on, whatever the build type.
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ::lethe::fuzz::violated(__FILE__, __LINE__, #cond);                                    \
        }                                                                                          \
    } while (0)
