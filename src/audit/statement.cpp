#include "audit/statement.hpp"

#include <stdexcept>

namespace lethe::audit {
namespace {

bool valid_token(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                        c == '/' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool valid_value(std::string_view s) {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

} // namespace

std::string statement_text(const Statement& s) {
    if (!valid_token(s.tag)) {
        throw std::invalid_argument("statement: bad tag");
    }
    std::string out = s.tag + "\n";
    for (const auto& [name, value] : s.members) {
        if (!valid_token(name) || !valid_value(value)) {
            throw std::invalid_argument("statement: bad member " + name);
        }
        out += name + " " + value + "\n";
    }
    return out;
}

std::optional<Statement> parse_statement_text(std::string_view text, std::string& error) {
    Statement s;
    bool first = true;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        if (nl == std::string_view::npos) {
            error = "statement: the last line has no newline";
            return std::nullopt;
        }
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (first) {
            s.tag = line;
            first = false;
            continue;
        }
        const auto sp = line.find(' ');
        if (sp == std::string_view::npos) {
            error = "statement: a line is not \"name value\"";
            return std::nullopt;
        }
        s.add(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
    }
    if (first || !valid_token(s.tag)) {
        error = "statement: no tag line";
        return std::nullopt;
    }
    // Only the canonical text is a statement: parsing must be the inverse of statement_text.
    try {
        if (statement_text(s).size() != 0) {
            return s;
        }
    } catch (const std::invalid_argument&) {
    }
    error = "statement: a member name or value is malformed";
    return std::nullopt;
}

std::string first_difference(const Statement& expected, const Statement& actual) {
    if (expected.tag != actual.tag) {
        return "(tag)";
    }
    for (std::size_t i = 0; i < expected.members.size(); ++i) {
        if (i >= actual.members.size() || actual.members[i] != expected.members[i]) {
            return expected.members[i].first;
        }
    }
    if (actual.members.size() > expected.members.size()) {
        return actual.members[expected.members.size()].first;
    }
    return "";
}

std::optional<Statement> open_statement(std::string_view note, const TrustedKeys& key,
                                        std::string& error) {
    auto parsed = parse_note(note, error);
    if (!parsed) {
        return std::nullopt;
    }
    if (const NoteCheck check = check_note(*parsed, key); check != NoteCheck::ok) {
        error = std::string(describe(check)) + " (trusted key " + key.name() + ")";
        return std::nullopt;
    }
    return parse_statement_text(parsed->text, error);
}

} // namespace lethe::audit
