#include "config/config.hpp"

#include "net/listen_address.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <toml++/toml.h>

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

    const toml::node* node(const std::string& key) const { return m_table.get(key); }

private:
    const std::filesystem::path& m_file;
    const toml::table& m_table;
    std::string m_name;
    std::set<std::string> m_known;
};

void read_database(SectionReader& r, DatabaseSection& s) {
    r.path("path", s.path);
}

void read_customerio(SectionReader& r, CustomerIoSection& s) {
    r.one_of("region", s.region, {"us", "eu"});
    r.string("track_url", s.track_url);
    r.string("site_id", s.site_id);
    r.string("api_key_file", s.api_key_file);
    r.string("api_key_env", s.api_key_env);
    r.string("api_key_command", s.api_key_command);
    r.integer("api_key_command_timeout_ms", s.api_key_command_timeout_ms, 1, 600'000);
    r.integer("timeout_ms", s.timeout_ms, 1, 600'000);
    r.boolean("allow_insecure_loopback", s.allow_insecure_loopback);
    r.string("ca_file", s.ca_file);
    if (const toml::node* n = r.node("track_url")) {
        if (s.track_url.rfind("https://", 0) != 0 && s.track_url.rfind("http://", 0) != 0) {
            r.fail(*n, "track_url", "must start with https://");
        }
        while (!s.track_url.empty() && s.track_url.back() == '/') {
            s.track_url.pop_back();
        }
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
    if (s.backoff_max_ms < s.backoff_base_ms) {
        const toml::node* n =
            r.node("backoff_max_ms") ? r.node("backoff_max_ms") : r.node("backoff_base_ms");
        r.fail(*n, "backoff_max_ms", "must not be smaller than backoff_base_ms");
    }
}

void read_audit(SectionReader& r, AuditSection& s) {
    r.path("subject_key_file", s.subject_key_file);
    r.path("checkpoint_key_file", s.checkpoint_key_file);
    r.path("checkpoint_dir", s.checkpoint_dir);
    r.string("origin", s.origin);
}

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

// Resolves the default paths against the config file's folder as well, so a config that only
// sets [database] path still keeps its keys beside it when the defaults are relative.
void resolve_relative_defaults(Config& c) {
    auto base = c.source.parent_path();
    c.customerio.ca_file =
        c.customerio.ca_file.empty() ? "" : resolve_path(base, c.customerio.ca_file).string();
    c.customerio.api_key_file = c.customerio.api_key_file.empty()
                                    ? ""
                                    : resolve_path(base, c.customerio.api_key_file).string();
    for (std::string* p :
         {&c.intake.tls_cert_file, &c.intake.tls_key_file, &c.intake.secret_file}) {
        *p = p->empty() ? "" : resolve_path(base, *p).string();
    }
}

} // namespace

std::string default_track_url(const std::string& region) {
    return region == "eu" ? "https://track-eu.customer.io" : "https://track.customer.io";
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
             read_customerio(r, cfg.customerio);
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
    for (const auto& [key, node] : root) {
        std::string k(key.str());
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
    if (c.customerio.track_url.empty()) {
        c.customerio.track_url = default_track_url(c.customerio.region);
    }
    resolve_relative_defaults(c);
    return c;
}

Config load_config(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::string hint = path == k_default_path ? "; pass --config FILE or set LETHE_CONFIG" : "";
        throw ConfigError(path.string() + ": cannot read configuration file" + hint);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_config(ss.str(), path);
}

} // namespace lethe::config
