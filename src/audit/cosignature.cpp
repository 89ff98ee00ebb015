#include "audit/cosignature.hpp"

#include "config/secrets.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace lethe::audit {
namespace {

constexpr std::string_view k_private_prefix = "PRIVATE+KEY+";
constexpr std::size_t k_seed_size = 32;
constexpr std::size_t k_timestamp_size = 8;
constexpr std::size_t k_signature_size = 64;

std::string u64_be(std::uint64_t v) {
    std::string out(k_timestamp_size, '\0');
    for (std::size_t i = 0; i < k_timestamp_size; ++i) {
        out[k_timestamp_size - 1 - i] = static_cast<char>(v >> (8 * i) & 0xff);
    }
    return out;
}

std::uint64_t from_u64_be(std::string_view b) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < k_timestamp_size; ++i) {
        v = v << 8 | static_cast<unsigned char>(b[i]);
    }
    return v;
}

WitnessKey witness_key_of(std::string_view name, crypto::Ed25519Key key) {
    auto verifier = note_verifier_key(name, key, k_note_cosignature_v1);
    return WitnessKey{std::string(name), std::move(key), std::move(verifier)};
}

} // namespace

std::string witness_key_file_text(const WitnessKey& key) {
    std::string typed(1, static_cast<char>(k_note_cosignature_v1));
    typed += key.key.private_raw();
    return std::string(k_private_prefix) + key.name + "+" + to_hex(key_id_bytes(key.verifier.id)) +
           "+" + crypto::base64_encode(typed) + "\n";
}

std::optional<WitnessKey> parse_witness_key(std::string_view text, std::string& error) {
    text = trim(text);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    if (!text.starts_with(k_private_prefix)) {
        error = "not a witness key (expected PRIVATE+KEY+NAME+KEYID+BASE64)";
        return std::nullopt;
    }
    text.remove_prefix(k_private_prefix.size());
    const auto plus1 = text.find('+');
    const auto plus2 = plus1 == std::string_view::npos ? plus1 : text.find('+', plus1 + 1);
    if (plus2 == std::string_view::npos) {
        error = "not a witness key (expected PRIVATE+KEY+NAME+KEYID+BASE64)";
        return std::nullopt;
    }
    const std::string_view name = text.substr(0, plus1);
    const auto id = from_hex(text.substr(plus1 + 1, plus2 - plus1 - 1));
    std::string typed;
    if (!valid_note_key_name(name) || !id || id->size() != 4 ||
        !crypto::base64_decode(text.substr(plus2 + 1), typed) || typed.size() != 1 + k_seed_size ||
        static_cast<unsigned char>(typed[0]) != k_note_cosignature_v1) {
        error = "malformed witness key (name, key ID or Ed25519 seed of type 0x04)";
        return std::nullopt;
    }
    auto key = witness_key_of(name, crypto::Ed25519Key::from_private_raw(typed.substr(1)));
    if (key.verifier.id != key_id_from_bytes(*id)) {
        error = "witness key: key ID does not match the name and key";
        return std::nullopt;
    }
    return key;
}

WitnessKey generate_witness_key(std::string_view name) {
    if (!valid_note_key_name(name)) {
        throw std::invalid_argument("a witness name must be a key name (no spaces, no '+')");
    }
    return witness_key_of(name, crypto::Ed25519Key::generate());
}

WitnessKey load_witness_key(const std::filesystem::path& path) {
    std::string error;
    auto key = parse_witness_key(config::read_private_file(path), error);
    if (!key) {
        throw ConfigError(path.string() + ": " + error);
    }
    return std::move(*key);
}

std::string cosignature_message(std::string_view checkpoint_text, std::int64_t time) {
    std::string msg = "cosignature/v1\ntime " + std::to_string(time) + "\n";
    msg += checkpoint_text;
    return msg;
}

std::string cosign(std::string_view checkpoint_text, const WitnessKey& key, std::int64_t time) {
    const auto stamp = u64_be(static_cast<std::uint64_t>(time));
    const auto sig = key.key.sign(cosignature_message(checkpoint_text, time));
    return note_signature_line(key.name, key_id_bytes(key.verifier.id) + stamp + sig);
}

CosignatureResult check_cosignature(const ParsedNote& note, const NoteVerifierKey& witness) {
    CosignatureResult result;
    const auto verifier = crypto::Ed25519Key::from_public_raw(witness.public_raw);
    for (const auto& sig : note.signatures) {
        if (sig.name != witness.name || sig.id != witness.id) {
            continue;
        }
        if (sig.signature.size() != k_timestamp_size + k_signature_size) {
            return CosignatureResult{CosignatureCheck::bad_signature, 0};
        }
        const std::uint64_t time = from_u64_be(sig.signature);
        if (time > static_cast<std::uint64_t>(INT64_MAX) ||
            !verifier.verify(cosignature_message(note.text, static_cast<std::int64_t>(time)),
                             std::string_view(sig.signature).substr(k_timestamp_size))) {
            return CosignatureResult{CosignatureCheck::bad_signature, 0};
        }
        result = CosignatureResult{CosignatureCheck::ok, static_cast<std::int64_t>(time)};
    }
    return result;
}

std::vector<std::string> cosigners(const ParsedNote& note,
                                   const std::vector<NoteVerifierKey>& witnesses) {
    std::vector<std::string> out;
    for (const auto& w : witnesses) {
        const bool counted = std::find(out.begin(), out.end(), w.name) != out.end();
        if (!counted && check_cosignature(note, w).check == CosignatureCheck::ok) {
            out.push_back(w.name);
        }
    }
    return out;
}

NoteVerifierKey witness_verifier_key(const std::string& text_or_file, std::string_view what) {
    std::string text = text_or_file;
    if (text.find('+') == std::string::npos || std::filesystem::exists(text)) {
        text = read_file(text, FileKind::verifier_key);
    }
    std::string error;
    auto key = parse_verifier_key(text, error, k_note_cosignature_v1);
    if (!key) {
        throw ConfigError(std::string(what) + ": " + error);
    }
    return *key;
}

} // namespace lethe::audit
