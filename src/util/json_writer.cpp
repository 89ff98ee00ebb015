#include "util/json_writer.hpp"

#include "util/strings.hpp"

namespace lethe {

void JsonWriter::key(std::string_view k) {
    if (m_out.size() > 1) {
        m_out.push_back(',');
    }
    append_json_string(m_out, k);
    m_out.push_back(':');
}

JsonWriter& JsonWriter::field(std::string_view k, std::string_view value) {
    key(k);
    append_json_string(m_out, value);
    return *this;
}

JsonWriter& JsonWriter::field(std::string_view k, std::int64_t value) {
    key(k);
    m_out += std::to_string(value);
    return *this;
}

JsonWriter& JsonWriter::field(std::string_view k, bool value) {
    key(k);
    m_out += value ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view k, std::string_view json) {
    key(k);
    m_out += json;
    return *this;
}

} // namespace lethe
