#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The small JSON subset of lethe's export files: one object per line whose members are strings,
// integers or null. Fast enough for a million lines and never allocates per line once warm.
namespace lethe::audit {

// A member value.
struct FlatJsonValue {
    enum class Kind { string, integer, null };
    Kind kind = Kind::null;
    std::string_view text; // the decoded string (Kind::string)
    std::int64_t number = 0;
};

// Parses one flat JSON object at a time; the views it hands out stay valid until the next parse.
class FlatJsonParser {
public:
    // Parses `line`. Returns false (reason in `error`) on malformed JSON, invalid UTF-8, nested
    // values, non-integer numbers, duplicate keys or more than 32 members.
    bool parse(std::string_view line, std::string& error);
    // The member named `key`, or nullptr.
    const FlatJsonValue* get(std::string_view key) const;
    // All members in the order they appeared.
    const std::vector<std::pair<std::string_view, FlatJsonValue>>& members() const {
        return m_members;
    }

private:
    bool parse_string(std::string_view& in, std::string_view& out, std::string& error);
    std::vector<std::pair<std::string_view, FlatJsonValue>> m_members;
    std::array<std::string, 64> m_pool; // decoded strings; fixed so views into them stay put
    std::size_t m_pool_used = 0;
};

// The most bytes write_json_literal() writes for a string of `n` bytes.
constexpr std::size_t json_literal_max_size(std::size_t n) {
    return 6 * n + 2;
}

// Writes `s` as a JSON string literal at `out`, which has room for json_literal_max_size() bytes:
// `"` and `\` escaped, control characters as \n, \r, \t or \u00XX, everything else (UTF-8
// included) as is. Returns the end of what it wrote. Sets `valid_utf8` to false (and leaves it
// alone otherwise) when `s` is not valid UTF-8, in which case the literal is not a faithful copy.
char* write_json_literal(char* out, std::string_view s, bool& valid_utf8);

// Appends `s` as a JSON string literal, as write_json_literal(). Returns false when `s` is not
// valid UTF-8.
bool append_json_literal(std::string& out, std::string_view s);

} // namespace lethe::audit
