#pragma once

#include "audit/note.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Signed statements: signed notes by the checkpoint key whose text is not a checkpoint but a
// tagged list of "name value" lines (docs/audit-format.md, "Signed statements"). They sign what
// a checkpoint cannot say: an export's trailer, a subject's proof bundle.
namespace lethe::audit {

// The text of a statement: its tag (first line, e.g. "lethe-audit-export/3"), then one line
// "<name> <value>" per member, in order. A name is [a-z_]+, a value has no newline (it may be
// empty). Because its second line never is a decimal size, no statement reads as a checkpoint.
struct Statement {
    std::string tag;
    std::vector<std::pair<std::string, std::string>> members;

    // Appends a member.
    void add(std::string name, std::string value) {
        members.emplace_back(std::move(name), std::move(value));
    }
};

// The text: tag "\n", then name " " value "\n" for each member. Throws std::invalid_argument when
// the tag or a name is not [a-z0-9_./-]+ or a value holds a newline or control character.
std::string statement_text(const Statement& s);

// Parses a statement text. Returns nullopt (reason in `error`) when it is not one.
std::optional<Statement> parse_statement_text(std::string_view text, std::string& error);

// The first member of `expected` that `actual` lacks or holds with another value, in order;
// empty when the two are equal (also in tag and order). For messages: "log_head", "(tag)", ...
std::string first_difference(const Statement& expected, const Statement& actual);

// Opens a statement note: parses it, checks that a signature line by `key` verifies (others are
// ignored) and that its text parses. Returns nullopt (reason in `error`) otherwise.
std::optional<Statement> open_statement(std::string_view note, const TrustedKeys& key,
                                        std::string& error);

} // namespace lethe::audit
