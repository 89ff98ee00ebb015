#include "audit/note.hpp"

#include "util/strings.hpp"

#include <stdexcept>

namespace lethe::audit {
namespace {

// U+2014 EM DASH followed by a space: the start of every signature line.
constexpr std::string_view k_sig_prefix = "\xE2\x80\x94 ";
constexpr std::size_t k_ed25519_signature_size = 64;
constexpr std::size_t k_ed25519_public_size = 32;
// The specification asks verifiers to accept at least 16 signatures; more is refused.
constexpr std::size_t k_max_signatures = 16;

// Strict Base64: decodes, and accepts only the canonical padded encoding of the result.
bool decode_base64_strict(std::string_view text, std::string& out) {
    return crypto::base64_decode(text, out) && crypto::base64_encode(out) == text;
}

bool has_control_other_than_newline(std::string_view s) {
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && c != '\n') || c == 0x7f) {
            return true;
        }
    }
    return false;
}

std::string hex8(std::uint32_t id) {
    return to_hex(key_id_bytes(id));
}

const char* describe_key_type(unsigned char type) {
    return type == k_note_cosignature_v1 ? "an Ed25519 witness key (type 0x04, 32 bytes)"
                                         : "an Ed25519 key (type 0x01, 32 bytes)";
}

} // namespace

std::string key_id_bytes(std::uint32_t id) {
    std::string out(4, '\0');
    out[0] = static_cast<char>(id >> 24 & 0xff);
    out[1] = static_cast<char>(id >> 16 & 0xff);
    out[2] = static_cast<char>(id >> 8 & 0xff);
    out[3] = static_cast<char>(id & 0xff);
    return out;
}

std::uint32_t key_id_from_bytes(std::string_view b) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[0])) << 24 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[1])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[2])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[3]));
}

std::string note_signature_line(std::string_view name, std::string_view raw) {
    std::string line(k_sig_prefix);
    line += name;
    line += " ";
    line += crypto::base64_encode(raw);
    line += "\n";
    return line;
}

std::uint32_t note_key_id(std::string_view name, std::string_view public_raw, unsigned char type) {
    std::string msg(name);
    msg.push_back('\n');
    msg.push_back(static_cast<char>(type));
    msg.append(public_raw);
    return key_id_from_bytes(crypto::sha256(msg));
}

bool valid_note_key_name(std::string_view name) {
    if (name.empty() || !is_valid_utf8(name) || has_control_chars(name)) {
        return false;
    }
    // ASCII spaces and '+' are refused outright; so are the Unicode spaces (U+00A0, U+1680,
    // U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) a key name must not contain.
    for (std::size_t i = 0; i < name.size(); ++i) {
        auto c = static_cast<unsigned char>(name[i]);
        if (c == ' ' || c == '+') {
            return false;
        }
        std::string_view rest = name.substr(i);
        if (rest.starts_with("\xC2\xA0") || rest.starts_with("\xE1\x9A\x80") ||
            rest.starts_with("\xE3\x80\x80")) {
            return false;
        }
        if (rest.size() >= 3 && c == 0xE2 && static_cast<unsigned char>(rest[1]) == 0x80) {
            auto c3 = static_cast<unsigned char>(rest[2]);
            if ((c3 >= 0x80 && c3 <= 0x8A) || c3 == 0xA8 || c3 == 0xA9 || c3 == 0xAF) {
                return false;
            }
        }
        if (rest.starts_with("\xE2\x81\x9F")) {
            return false;
        }
    }
    return true;
}

NoteVerifierKey note_verifier_key(std::string_view name, const crypto::Ed25519Key& key,
                                  unsigned char type) {
    NoteVerifierKey v;
    v.name = name;
    v.public_raw = key.public_raw();
    v.type = type;
    v.id = note_key_id(name, v.public_raw, type);
    return v;
}

std::string format_verifier_key(const NoteVerifierKey& key) {
    std::string typed(1, static_cast<char>(key.type));
    typed += key.public_raw;
    return key.name + "+" + hex8(key.id) + "+" + crypto::base64_encode(typed);
}

std::optional<NoteVerifierKey> parse_verifier_key(std::string_view text, std::string& error,
                                                  unsigned char type) {
    text = trim(text);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    // Names never contain '+', Base64 may: the first two '+' are the separators.
    auto plus1 = text.find('+');
    auto plus2 = plus1 == std::string_view::npos ? plus1 : text.find('+', plus1 + 1);
    if (plus2 == std::string_view::npos) {
        error = "not a verifier key (expected NAME+KEYID+BASE64)";
        return std::nullopt;
    }
    NoteVerifierKey key;
    key.name = text.substr(0, plus1);
    std::string_view id_hex = text.substr(plus1 + 1, plus2 - plus1 - 1);
    std::string_view b64 = text.substr(plus2 + 1);
    if (!valid_note_key_name(key.name)) {
        error = "verifier key: invalid key name";
        return std::nullopt;
    }
    auto id = from_hex(id_hex);
    if (id_hex.size() != 8 || !id) {
        error = "verifier key: key ID must be 8 hex digits";
        return std::nullopt;
    }
    key.id = key_id_from_bytes(*id);
    std::string typed;
    if (!decode_base64_strict(b64, typed) || typed.empty()) {
        error = "verifier key: bad Base64";
        return std::nullopt;
    }
    if (static_cast<unsigned char>(typed[0]) != type || typed.size() != 1 + k_ed25519_public_size) {
        error = std::string("verifier key: not ") + describe_key_type(type);
        return std::nullopt;
    }
    key.public_raw = typed.substr(1);
    key.type = type;
    if (note_key_id(key.name, key.public_raw, type) != key.id) {
        error = "verifier key: key ID does not match the name and public key";
        return std::nullopt;
    }
    return key;
}

std::string sign_note(std::string_view text, std::string_view name, const crypto::Ed25519Key& key) {
    if (text.empty() || text.back() != '\n' || !is_valid_utf8(text) ||
        has_control_other_than_newline(text)) {
        throw std::runtime_error("note text must be UTF-8 ending in a newline, without controls");
    }
    if (!valid_note_key_name(name)) {
        throw std::runtime_error("invalid note key name");
    }
    const std::uint32_t id = note_key_id(name, key.public_raw());
    std::string note(text);
    note += "\n";
    note += note_signature_line(name, key_id_bytes(id) + key.sign(text));
    return note;
}

std::optional<ParsedNote> parse_note(std::string_view note, std::string& error) {
    if (!is_valid_utf8(note) || has_control_other_than_newline(note)) {
        error = "note is not UTF-8 text without control characters";
        return std::nullopt;
    }
    if (note.empty() || note.back() != '\n') {
        error = "note does not end in a newline";
        return std::nullopt;
    }
    // The text ends at the last blank line; everything after it is signature lines.
    auto split = note.rfind("\n\n");
    if (split == std::string_view::npos) {
        error = "note has no blank line before its signatures";
        return std::nullopt;
    }
    ParsedNote out;
    out.text = note.substr(0, split + 1);
    std::string_view sigs = note.substr(split + 2);
    if (sigs.empty()) {
        error = "note has no signature lines";
        return std::nullopt;
    }
    while (!sigs.empty()) {
        auto eol = sigs.find('\n');
        std::string_view line = sigs.substr(0, eol);
        sigs.remove_prefix(eol + 1);
        if (!line.starts_with(k_sig_prefix)) {
            error = "signature line does not start with an em dash and a space";
            return std::nullopt;
        }
        line.remove_prefix(k_sig_prefix.size());
        auto space = line.find(' ');
        if (space == std::string_view::npos) {
            error = "signature line has no key name and signature";
            return std::nullopt;
        }
        NoteSignature sig;
        sig.name = line.substr(0, space);
        std::string raw;
        if (!valid_note_key_name(sig.name) || !decode_base64_strict(line.substr(space + 1), raw) ||
            raw.size() < 5) {
            error = "malformed signature line";
            return std::nullopt;
        }
        sig.id = key_id_from_bytes(raw);
        sig.signature = raw.substr(4);
        out.signatures.push_back(std::move(sig));
        if (out.signatures.size() > k_max_signatures) {
            error = "note has too many signatures";
            return std::nullopt;
        }
    }
    return out;
}

NoteCheck check_note(const ParsedNote& note, const NoteVerifierKey& key) {
    NoteCheck result = NoteCheck::no_signature;
    const auto verifier = crypto::Ed25519Key::from_public_raw(key.public_raw);
    for (const auto& sig : note.signatures) {
        if (sig.name != key.name || sig.id != key.id) {
            continue;
        }
        if (sig.signature.size() != k_ed25519_signature_size ||
            !verifier.verify(note.text, sig.signature)) {
            // A failing signature from the trusted key rejects the whole note.
            return NoteCheck::bad_signature;
        }
        result = NoteCheck::ok;
    }
    return result;
}

const char* describe(NoteCheck check) {
    switch (check) {
    case NoteCheck::ok:
        return "signature valid";
    case NoteCheck::no_signature:
        return "not signed by the trusted key (no signature line with its name and key ID)";
    case NoteCheck::bad_signature:
        return "signature does not verify";
    }
    return "unknown";
}

TrustedKeys::TrustedKeys(NoteVerifierKey key) : m_keys{std::move(key)} {
}

void TrustedKeys::add(NoteVerifierKey key) {
    if (key.name != name()) {
        throw std::invalid_argument("trusted keys: \"" + key.name + "\" is not the name \"" +
                                    name() + "\" of the other keys (one log, one origin)");
    }
    for (const auto& k : m_keys) {
        if (k.id == key.id && k.public_raw == key.public_raw) {
            return;
        }
    }
    m_keys.push_back(std::move(key));
}

bool TrustedKeys::contains(std::string_view key_text) const {
    for (const auto& k : m_keys) {
        if (format_verifier_key(k) == key_text) {
            return true;
        }
    }
    return false;
}

NoteCheck check_note(const ParsedNote& note, const TrustedKeys& keys) {
    NoteCheck result = NoteCheck::no_signature;
    for (const auto& k : keys.keys()) {
        const NoteCheck c = check_note(note, k);
        if (c == NoteCheck::bad_signature) {
            return c;
        }
        if (c == NoteCheck::ok) {
            result = c;
        }
    }
    return result;
}

std::string add_note_signature(std::string_view note, std::string_view name,
                               const crypto::Ed25519Key& key) {
    std::string error;
    auto parsed = parse_note(note, error);
    if (!parsed) {
        throw std::runtime_error("add_note_signature: " + error);
    }
    // sign_note gives text, a blank line and the new line: keep only the line.
    const std::string one = sign_note(parsed->text, name, key);
    return std::string(note) + one.substr(parsed->text.size() + 1);
}

} // namespace lethe::audit
