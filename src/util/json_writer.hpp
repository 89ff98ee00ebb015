#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lethe {

// Builds a flat JSON object in insertion order; cheap enough for one per imported row.
class JsonWriter {
public:
    JsonWriter() : m_out("{") {}
    JsonWriter& field(std::string_view key, std::string_view value);
    JsonWriter& field(std::string_view key, const char* value) {
        return field(key, std::string_view(value));
    }
    JsonWriter& field(std::string_view key, std::int64_t value);
    JsonWriter& field(std::string_view key, int value) {
        return field(key, static_cast<std::int64_t>(value));
    }
    JsonWriter& field(std::string_view key, bool value);
    // Adds already-serialised JSON as the value.
    JsonWriter& raw(std::string_view key, std::string_view json);
    // The finished object text.
    std::string str() const { return m_out + "}"; }

private:
    void key(std::string_view k);
    std::string m_out;
};

} // namespace lethe
