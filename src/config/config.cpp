#include "config/config.hpp"

#include "audit/note.hpp"
#include "net/listen_address.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <toml++/toml.h>
#include <vector>

namespace lethe::config {
namespace {

constexpr const char* k_default_path = "/etc/lethe/lethe.toml";

// Validates one table of a config file against the keys it may hold.
class SectionReader {
public:
    SectionReader(const std::filesystem::path& file, const toml::table& table, std::string name)
        : m_file(file), m_table(table), m_name(std::move(name)) {}

    [[noreturn]] void fail(const toml::node& node, const std::string& key,
                           const std::string& reason) const {
        throw ConfigError(m_file.string() + ":" + std::to_string(node.source().begin.line) + ": " +
                          m_name + "." + key + ": " + reason);
    }

    void string(const std::string& key, std::string& out) {
        m_known.insert(key);
        if (const toml::node* node = m_table.get(key)) {
            auto v = node->value<std::string>();
            if (!node->is_string() || !v) {
                fail(*node, key, "expected a string");
            }
            out = *v;
        }
    }

    void one_of(const std::string& key, std::string& out,
                std::initializer_list<const char*> allowed) {
        string(key, out);
        for (const char* a : allowed) {
            if (out == a) {
                return;
            }
        }
        std::string list;
        for (const char* a : allowed) {
            list += (list.empty() ? "" : ", ") + std::string("\"") + a + "\"";
        }
        fail(*m_table.get(key), key, "must be one of " + list + " (got \"" + out + "\")");
    }

    void path(const std::string& key, std::filesystem::path& out) {
        std::string s = out.string();
        string(key, s);
        if (const toml::node* node = m_table.get(key); node && s.empty()) {
            fail(*node, key, "must not be empty");
        }
        out = resolve_path(m_file.parent_path(), s);
    }

    void integer(const std::string& key, std::int64_t& out, std::int64_t min, std::int64_t max) {
        m_known.insert(key);
        if (const toml::node* node = m_table.get(key)) {
            if (!node->is_integer()) {
                fail(*node, key, "expected an integer");
            }
            std::int64_t v = *node->value<std::int64_t>();
            if (v < min || v > max) {
                fail(*node, key,
                     "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                         " (got " + std::to_string(v) + ")");
            }
            out = v;
        }
    }

    void optional_integer(const std::string& key, std::optional<std::int64_t>& out,
                          std::int64_t min, std::int64_t max) {
        if (m_table.get(key) != nullptr) {
            std::int64_t v = 0;
            integer(key, v, min, max);
            out = v;
        } else {
            m_known.insert(key);
        }
    }

    void boolean(const std::string& key, bool& out) {
        m_known.insert(key);
        if (const toml::node* node = m_table.get(key)) {
            if (!node->is_boolean()) {
                fail(*node, key, "expected true or false");
            }
            out = *node->value<bool>();
        }
    }

    // Refuses keys that no call above asked for: a typo must not silently fall back to a default.
    void reject_unknown() const {
        for (const auto& [key, node] : m_table) {
            if (!m_known.count(std::string(key.str()))) {
                fail(node, std::string(key.str()), "unknown key");
            }
        }
    }

    // Accepts `key` without reading it here (a nested table read by its own reader).
    void allow(const std::string& key) { m_known.insert(key); }

    const toml::node* node(const std::string& key) const { return m_table.get(key); }
    const std::filesystem::path& file() const { return m_file; }
    const std::string& name() const { return m_name; }

    // For a key that is missing: the line of the table's header.
    [[noreturn]] void fail_missing(const std::string& key, const std::string& reason) const {
        fail(m_table, key, reason);
    }

private:
    const std::filesystem::path& m_file;
    const toml::table& m_table;
    std::string m_name;
    std::set<std::string> m_known;
};

void read_database(SectionReader& r, DatabaseSection& s) {
    r.path("path", s.path);
    s.identifier_key_file = s.path.parent_path() / "identifier.key";
    r.path("identifier_key_file", s.identifier_key_file);
    r.integer("scrub_interval_s", s.scrub_interval_s, 1, 60);
}

// The host of an http(s) URL, lower case (IPv6 literals keep their brackets); empty when there
// is none. Only for the loopback rule: cio::validate_endpoint checks the rest.
std::string url_host(std::string_view url) {
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) {
        return {};
    }
    std::string_view authority = url.substr(sep + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    authority = authority.substr(
        authority.rfind('@') == std::string_view::npos ? 0 : authority.rfind('@') + 1);
    std::string_view host = authority;
    if (host.starts_with('[')) {
        host = host.substr(0, host.find(']') == std::string_view::npos ? host.size()
                                                                       : host.find(']') + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    std::string out(host);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// track_url / app_url: https://, or http:// to a literal loopback address with
// allow_insecure_loopback (the sandbox). A trailing '/' is dropped.
void read_url(SectionReader& r, const std::string& key, std::string& url,
              bool allow_insecure_loopback) {
    r.string(key, url);
    const toml::node* n = r.node(key);
    if (n == nullptr) {
        return;
    }
    const bool https = url.rfind("https://", 0) == 0;
    if (!https && url.rfind("http://", 0) != 0) {
        r.fail(*n, key, "must start with https://");
    }
    if (!https) {
        const std::string host = url_host(url);
        if (host != "127.0.0.1" && host != "[::1]") {
            r.fail(*n, key,
                   "must use https:// (http:// is only allowed for 127.0.0.1 or [::1] with "
                   "allow_insecure_loopback = true)");
        }
        if (!allow_insecure_loopback) {
            r.fail(*n, key,
                   "http:// to a loopback address needs allow_insecure_loopback = true (meant "
                   "for the sandbox)");
        }
    }
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
}

// Refuses more than one configured source among `keys` (e.g. api_key_file, api_key_env),
// naming them at the line of the last one.
void at_most_one_source(SectionReader& r, std::initializer_list<const char*> keys,
                        const std::string& what) {
    std::vector<const char*> given;
    const toml::node* last = nullptr;
    const char* last_key = nullptr;
    for (const char* k : keys) {
        if (const toml::node* n = r.node(k)) {
            given.push_back(k);
            if (last == nullptr || n->source().begin.line >= last->source().begin.line) {
                last = n;
                last_key = k;
            }
        }
    }
    if (given.size() < 2) {
        return;
    }
    std::string list;
    for (const char* k : given) {
        list += (list.empty() ? "" : ", ") + std::string(k);
    }
    const auto* k = keys.begin();
    const std::string choices = std::string(k[0]) + ", " + k[1] + " or " + k[2];
    r.fail(*last, last_key,
           "several " + what + " sources are configured (" + list + "); keep exactly one of " +
               choices);
}

bool valid_workspace_name(std::string_view name) {
    if (name.empty() || name.size() > 32) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

// A [[workspace]] table (legacy = false) or the [customerio] section (legacy = true).
void read_workspace(SectionReader& r, WorkspaceSection& s, bool legacy) {
    s.from_customerio_section = legacy;
    if (legacy) {
        s.name = k_legacy_workspace_name;
    } else {
        r.string("name", s.name);
        if (r.node("name") == nullptr) {
            r.fail_missing("name", "must be set: a stable name of [a-z0-9-], 1 to 32 characters "
                                   "(used in the audit log, metrics and output)");
        }
        if (!valid_workspace_name(s.name)) {
            r.fail(*r.node("name"), "name",
                   "must be 1 to 32 characters of a-z, 0-9 and - (got \"" + s.name + "\")");
        }
    }
    r.one_of("region", s.region, {"us", "eu"});
    r.string("site_id", s.site_id);
    r.optional_integer("environment_id", s.environment_id, 1,
                       std::numeric_limits<std::int64_t>::max());
    r.string("api_key_file", s.api_key_file);
    r.string("api_key_env", s.api_key_env);
    r.string("api_key_command", s.api_key_command);
    r.string("app_api_key_file", s.app_api_key_file);
    r.string("app_api_key_env", s.app_api_key_env);
    r.string("app_api_key_command", s.app_api_key_command);
    r.integer("api_key_command_timeout_ms", s.api_key_command_timeout_ms, 1, 600'000);
    r.integer("timeout_ms", s.timeout_ms, 1, 600'000);
    r.boolean("allow_insecure_loopback", s.allow_insecure_loopback);
    r.string("ca_file", s.ca_file);
    read_url(r, "track_url", s.track_url, s.allow_insecure_loopback);
    read_url(r, "app_url", s.app_url, s.allow_insecure_loopback);
    if (!legacy) {
        if (r.node("site_id") == nullptr || s.site_id.empty()) {
            if (r.node("site_id") != nullptr) {
                r.fail(*r.node("site_id"), "site_id", "must not be empty");
            }
            r.fail_missing("site_id", "must be set (the workspace's Track API site id)");
        }
        if (!s.environment_id) {
            r.fail_missing("environment_id",
                           "must be set: the workspace id as `lethe check` prints it (it pins "
                           "the Track API key to this workspace)");
        }
        // [customerio] keeps today's behaviour: two sources are reported when the key is
        // resolved (`config show` lists the error), so an old file still loads.
        at_most_one_source(r, {"api_key_file", "api_key_command", "api_key_env"}, "Track API key");
    }
    at_most_one_source(r, {"app_api_key_file", "app_api_key_command", "app_api_key_env"},
                       "App API key");
    if (s.track_url.empty()) {
        s.track_url = default_track_url(s.region);
    }
    if (s.app_url.empty()) {
        s.app_url = default_app_url(s.region);
    }
}

void read_worker(SectionReader& r, WorkerSection& s) {
    r.integer("pacing_ms", s.pacing_ms, 0, 60'000);
    r.integer("concurrency", s.concurrency, 1, 64);
    r.integer("lease_seconds", s.lease_seconds, 1, 86'400);
    r.integer("max_attempts", s.max_attempts, 1, 1'000);
    r.integer("backoff_base_ms", s.backoff_base_ms, 1, 3'600'000);
    r.integer("backoff_max_ms", s.backoff_max_ms, 1, 86'400'000);
    r.integer("poll_interval_ms", s.poll_interval_ms, 1, 3'600'000);
    r.integer("verify_window_s", s.verify_window_s, 0, 7 * 86'400);
    if (s.backoff_max_ms < s.backoff_base_ms) {
        const toml::node* n =
            r.node("backoff_max_ms") ? r.node("backoff_max_ms") : r.node("backoff_base_ms");
        r.fail(*n, "backoff_max_ms", "must not be smaller than backoff_base_ms");
    }
}

// One [[audit.witness]] table.
void read_witness(SectionReader& r, WitnessSection& w) {
    r.string("name", w.name);
    r.string("vkey", w.vkey);
    r.boolean("allow_insecure_loopback", w.allow_insecure_loopback);
    read_url(r, "url", w.url, w.allow_insecure_loopback);
    for (const char* key : {"name", "url", "vkey"}) {
        if (r.node(key) == nullptr) {
            r.fail_missing(key, "must be set (name, url and vkey of the witness)");
        }
    }
    std::string error;
    auto key = audit::parse_verifier_key(w.vkey, error, audit::k_note_cosignature_v1);
    if (!key) {
        r.fail(*r.node("vkey"), "vkey", error + " (as `lethe witness init` prints it)");
    }
    if (key->name != w.name) {
        r.fail(*r.node("name"), "name",
               "must be the name in the witness's vkey (\"" + key->name + "\")");
    }
}

void read_witnesses(SectionReader& audit, const toml::node& node,
                    std::vector<WitnessSection>& out) {
    const toml::array* list = node.as_array();
    if (list == nullptr || !list->is_array_of_tables()) {
        audit.fail(node, "witness", "expected [[audit.witness]] tables (one per witness)");
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::table& t = *list->get(i)->as_table();
        SectionReader reader(audit.file(), t, "audit.witness[" + std::to_string(i + 1) + "]");
        WitnessSection& w = out.emplace_back();
        read_witness(reader, w);
        reader.reject_unknown();
        for (std::size_t j = 0; j + 1 < out.size(); ++j) {
            if (out[j].name == w.name) {
                reader.fail(*t.get("name"), "name",
                            "\"" + w.name + "\" is already audit.witness[" + std::to_string(j + 1) +
                                "]; names must be unique");
            }
        }
    }
}

void read_audit(SectionReader& r, AuditSection& s) {
    r.path("subject_key_file", s.subject_key_file);
    r.path("checkpoint_key_file", s.checkpoint_key_file);
    if (r.node("previous_checkpoint_key_file")) { // absent: no rotation under way
        r.path("previous_checkpoint_key_file", s.previous_checkpoint_key_file);
    }
    r.path("checkpoint_dir", s.checkpoint_dir);
    r.string("origin", s.origin);
    r.integer("checkpoint_interval_s", s.checkpoint_interval_s, 1, 7 * 86'400);
    r.allow("witness");
    if (const toml::node* tables = r.node("witness")) {
        read_witnesses(r, *tables, s.witnesses);
    }
    const auto count = static_cast<std::int64_t>(s.witnesses.size());
    s.witness_quorum = std::min<std::int64_t>(1, count);
    r.integer("witness_quorum", s.witness_quorum, 0, 16);
    if (const toml::node* n = r.node("witness_quorum"); n && s.witness_quorum > count) {
        r.fail(*n, "witness_quorum",
               "is larger than the number of [[audit.witness]] tables (" + std::to_string(count) +
                   ")");
    }
}

void read_intake_senders(SectionReader& r, IntakeSection& s);

void read_intake(SectionReader& r, IntakeSection& s) {
    r.string("listen", s.listen);
    if (const toml::node* n = r.node("listen"); n && !net::parse_listen_address(s.listen)) {
        r.fail(*n, "listen", "expected HOST:PORT or [IPV6]:PORT with a port from 0 to 65535");
    }
    r.string("tls_cert_file", s.tls_cert_file);
    r.string("tls_key_file", s.tls_key_file);
    r.string("secret_file", s.secret_file);
    r.string("secret_command", s.secret_command);
    r.string("secret_env", s.secret_env);
    r.integer("secret_command_timeout_ms", s.secret_command_timeout_ms, 1, 600'000);
    r.integer("max_body_bytes", s.max_body_bytes, 256, 1 << 20);
    if (s.tls_cert_file.empty() != s.tls_key_file.empty()) {
        const char* given = s.tls_cert_file.empty() ? "tls_key_file" : "tls_cert_file";
        const char* missing = s.tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file";
        r.fail(*r.node(given), given,
               std::string("needs ") + missing + " as well (HTTPS needs both)");
    }
    r.boolean("allow_plain_http", s.allow_plain_http);
    read_intake_senders(r, s);
    // Bodies carry identifiers (e-mail addresses): the signature protects their integrity, not
    // their confidentiality, so off loopback they travel over TLS unless someone says otherwise.
    const auto address = net::parse_listen_address(s.listen);
    if (const toml::node* n = r.node("listen"); n && address && s.tls_cert_file.empty() &&
                                                !s.allow_plain_http &&
                                                !net::is_loopback_host(address->host)) {
        r.fail(*n, "listen",
               "a non-loopback address needs tls_cert_file and tls_key_file (requests carry "
               "personal data), or allow_plain_http = true when a TLS proxy on a trusted network "
               "terminates HTTPS in front of lethe");
    }
}

// `scopes = ["submit", "read"]`: required, each at most once; an empty list is a sender whose
// every request is refused (403), e.g. while it is being revoked.
unsigned read_scopes(SectionReader& r) {
    r.allow("scopes");
    const toml::node* n = r.node("scopes");
    if (n == nullptr) {
        r.fail_missing("scopes", "must be set: a list of \"submit\" and/or \"read\"");
    }
    const toml::array* list = n->as_array();
    if (list == nullptr) {
        r.fail(*n, "scopes", "expected a list of \"submit\" and/or \"read\"");
    }
    unsigned scopes = 0;
    for (const toml::node& item : *list) {
        const auto text = item.value<std::string>();
        SenderScope scope{};
        if (item.is_string() && *text == "submit") {
            scope = SenderScope::submit;
        } else if (item.is_string() && *text == "read") {
            scope = SenderScope::read;
        } else {
            r.fail(item, "scopes", "each scope must be \"submit\" or \"read\"");
        }
        if ((scopes & static_cast<unsigned>(scope)) != 0) {
            r.fail(item, "scopes", "\"" + *text + "\" is listed twice");
        }
        scopes |= static_cast<unsigned>(scope);
    }
    return scopes;
}

// One [[intake.sender]] table.
void read_sender(SectionReader& r, SenderSection& s) {
    r.string("name", s.name);
    if (r.node("name") == nullptr) {
        r.fail_missing("name", "must be set: a stable name of [a-z0-9-], 1 to 32 characters "
                               "(recorded with its requests and in the audit log)");
    }
    if (!valid_workspace_name(s.name)) {
        r.fail(*r.node("name"), "name",
               "must be 1 to 32 characters of a-z, 0-9 and - (got \"" + s.name + "\")");
    }
    r.string("secret_file", s.secret_file);
    r.string("secret_command", s.secret_command);
    r.string("secret_env", s.secret_env);
    at_most_one_source(r, {"secret_file", "secret_command", "secret_env"}, "secret");
    r.integer("secret_command_timeout_ms", s.secret_command_timeout_ms, 1, 600'000);
    s.scopes = read_scopes(r);
    r.boolean("allow_insecure_loopback", s.allow_insecure_loopback);
    read_url(r, "callback_url", s.callback_url, s.allow_insecure_loopback);
    if (const toml::node* n = r.node("callback_url"); n && s.callback_url.empty()) {
        r.fail(*n, "callback_url", "must not be empty (leave it out for no callbacks)");
    }
    r.integer("callback_retry_hours", s.callback_retry_hours, 1, 24 * 30);
}

// The [[intake.sender]] tables of [intake] (`list`), checked for unique names.
void read_senders(SectionReader& intake, const toml::node& node, std::vector<SenderSection>& out) {
    const toml::array* list = node.as_array();
    if (list == nullptr || !list->is_array_of_tables()) {
        intake.fail(node, "sender", "expected [[intake.sender]] tables (one per sender)");
    }
    std::map<std::string, std::size_t> seen; // name → index (1-based)
    for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::table& t = *list->get(i)->as_table();
        SectionReader reader(intake.file(), t, "intake.sender[" + std::to_string(i + 1) + "]");
        SenderSection& s = out.emplace_back();
        read_sender(reader, s);
        reader.reject_unknown();
        if (auto [it, fresh] = seen.emplace(s.name, i + 1); !fresh) {
            reader.fail(*t.get("name"), "name",
                        "\"" + s.name + "\" is already the name of intake.sender[" +
                            std::to_string(it->second) + "]; names must be unique");
        }
    }
}

// The senders: [[intake.sender]] tables, or one made of [intake]'s own secret_* keys; both at
// once is refused (which secret would be whose?).
void read_intake_senders(SectionReader& r, IntakeSection& s) {
    r.allow("sender");
    const toml::node* tables = r.node("sender");
    if (tables == nullptr) {
        s.senders.push_back(legacy_sender(s));
        return;
    }
    for (const char* key : {"secret_file", "secret_command", "secret_env"}) {
        if (const toml::node* n = r.node(key)) {
            r.fail(*n, key,
                   "cannot be combined with [[intake.sender]] tables: give each sender its own "
                   "secret_file, secret_command or secret_env (the [intake] secret is the single "
                   "sender \"default\" when there are no [[intake.sender]] tables)");
        }
    }
    read_senders(r, *tables, s.senders);
}

// Resolves the default paths against the config file's folder as well, so a config that only
// sets [database] path still keeps its keys beside it when the defaults are relative.
void resolve_relative_defaults(Config& c) {
    auto base = c.source.parent_path();
    auto resolve = [&](std::string& p) {
        p = p.empty() ? "" : resolve_path(base, p).string();
    };
    for (auto& ws : c.workspaces) {
        resolve(ws.ca_file);
        resolve(ws.api_key_file);
        resolve(ws.app_api_key_file);
    }
    for (std::string* p :
         {&c.intake.tls_cert_file, &c.intake.tls_key_file, &c.intake.secret_file}) {
        resolve(*p);
    }
    if (c.intake.senders.empty()) {
        // No [intake] section at all: the single sender of the built-in defaults.
        const toml::table empty;
        SectionReader none(c.source, empty, "intake");
        read_intake_senders(none, c.intake);
    }
    for (auto& sender : c.intake.senders) {
        resolve(sender.secret_file);
    }
}

} // namespace

std::vector<std::string> workspace_names(const Config& config) {
    std::vector<std::string> names;
    for (const auto& w : config.workspaces) {
        names.push_back(w.name);
    }
    return names;
}

std::vector<std::string> witness_names(const Config& config) {
    std::vector<std::string> names;
    for (const auto& w : config.audit.witnesses) {
        names.push_back(w.name);
    }
    return names;
}

std::string default_track_url(const std::string& region) {
    return region == "eu" ? "https://track-eu.customer.io" : "https://track.customer.io";
}

std::string default_app_url(const std::string& region) {
    return region == "eu" ? "https://api-eu.customer.io" : "https://api.customer.io";
}

SenderSection legacy_sender(const IntakeSection& intake) {
    SenderSection legacy;
    legacy.name = k_legacy_sender_name;
    legacy.secret_file = intake.secret_file;
    legacy.secret_command = intake.secret_command;
    legacy.secret_env = intake.secret_env;
    legacy.secret_command_timeout_ms = intake.secret_command_timeout_ms;
    legacy.scopes =
        static_cast<unsigned>(SenderScope::submit) | static_cast<unsigned>(SenderScope::read);
    legacy.from_intake_section = true;
    return legacy;
}

const SenderSection* IntakeSection::find_sender(std::string_view name) const {
    for (const auto& s : senders) {
        if (s.name == name) {
            return &s;
        }
    }
    return nullptr;
}

const WorkspaceSection* Config::find_workspace(std::string_view name) const {
    for (const auto& ws : workspaces) {
        if (ws.name == name) {
            return &ws;
        }
    }
    return nullptr;
}

std::filesystem::path config_path(const std::optional<std::filesystem::path>& flag) {
    if (flag && !flag->empty()) {
        return *flag;
    }
    if (const char* env = std::getenv("LETHE_CONFIG"); env != nullptr && *env != '\0') {
        return env;
    }
    return k_default_path;
}

Config parse_config(const std::string& text, const std::filesystem::path& name) {
    toml::table root;
    try {
        root = toml::parse(text, name.string());
    } catch (const toml::parse_error& e) {
        throw ConfigError(name.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                          std::string(e.description()));
    }
    Config c;
    c.source = name;
    using Reader = std::function<void(SectionReader&, Config&)>;
    const std::map<std::string, Reader> sections = {
        {"database",
         [](SectionReader& r, Config& cfg) {
             read_database(r, cfg.database);
         }},
        {"customerio",
         [](SectionReader& r, Config& cfg) {
             read_workspace(r, cfg.workspaces.emplace_back(), /*legacy=*/true);
         }},
        {"worker",
         [](SectionReader& r, Config& cfg) {
             read_worker(r, cfg.worker);
         }},
        {"audit",
         [](SectionReader& r, Config& cfg) {
             read_audit(r, cfg.audit);
         }},
        {"intake",
         [](SectionReader& r, Config& cfg) {
             read_intake(r, cfg.intake);
         }},
    };
    auto line_of = [](const toml::node& n) {
        return std::to_string(n.source().begin.line);
    };
    const toml::node* legacy = root.get("customerio");
    const toml::node* tables = root.get("workspace");
    if (legacy != nullptr && tables != nullptr) {
        // Named at whichever comes later in the file (toml++ iterates keys sorted, not in order).
        const bool legacy_first = legacy->source().begin.line <= tables->source().begin.line;
        const toml::node& later = legacy_first ? *tables : *legacy;
        throw ConfigError(name.string() + ":" + line_of(later) + ": " +
                          (legacy_first ? "workspace" : "customerio") +
                          ": a [customerio] section and [[workspace]] tables cannot be combined "
                          "(the other one is at line " +
                          line_of(legacy_first ? *legacy : *tables) +
                          "); use one or the other ([customerio] is the single workspace "
                          "\"default\")");
    }
    for (const auto& [key, node] : root) {
        std::string k(key.str());
        if (k == "workspace") {
            const toml::array* list = node.as_array();
            if (list == nullptr || !list->is_array_of_tables()) {
                throw ConfigError(name.string() + ":" + line_of(node) +
                                  ": workspace: expected [[workspace]] tables (one per workspace)");
            }
            std::map<std::string, std::size_t> seen; // name → index (1-based)
            for (std::size_t i = 0; i < list->size(); ++i) {
                const toml::table& t = *list->get(i)->as_table();
                const std::string label = "workspace[" + std::to_string(i + 1) + "]";
                SectionReader reader(name, t, label);
                WorkspaceSection& ws = c.workspaces.emplace_back();
                read_workspace(reader, ws, /*legacy=*/false);
                reader.reject_unknown();
                if (auto [it, fresh] = seen.emplace(ws.name, i + 1); !fresh) {
                    reader.fail(*t.get("name"), "name",
                                "\"" + ws.name + "\" is already the name of workspace[" +
                                    std::to_string(it->second) + "]; names must be unique");
                }
            }
            continue;
        }
        auto it = sections.find(k);
        if (it == sections.end()) {
            throw ConfigError(name.string() + ":" + std::to_string(node.source().begin.line) +
                              ": " + k + ": unknown " +
                              (node.is_table() ? "section" : "top-level key"));
        }
        if (!node.is_table()) {
            throw ConfigError(name.string() + ":" + std::to_string(node.source().begin.line) +
                              ": " + k + ": expected a [" + k + "] section");
        }
        SectionReader reader(name, *node.as_table(), k);
        it->second(reader, c);
        reader.reject_unknown();
    }
    resolve_relative_defaults(c);
    return c;
}

Config load_config(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        std::string hint = path == k_default_path ? "; pass --config FILE or set LETHE_CONFIG" : "";
        throw ConfigError(path.string() + ": cannot read configuration file" + hint);
    }
    // A directory, a FIFO or a device is refused, not read as an empty configuration.
    return parse_config(read_file(path, FileKind::config), path);
}

} // namespace lethe::config
