#include "witness/submit.hpp"

#include "audit/checkpoint.hpp"
#include "audit/cosignature.hpp"
#include "crypto/merkle.hpp"
#include "store/audit_queries.hpp"
#include "store/witness_store.hpp"
#include "util/strings.hpp"
#include "worker/retry_policy.hpp"

#include <spdlog/spdlog.h>

namespace lethe::witness {
namespace {

// A witness that is down is asked again after 30 s, doubling up to an hour, with full jitter.
const worker::RetryPolicy k_backoff{30'000, 3'600'000, 0};
// A witness answers 409 with the size it cosigned last; one more try from that size.
constexpr int k_max_tries = 2;

struct Target {
    const config::WitnessSection* config = nullptr;
    audit::NoteVerifierKey key;
};

// What one POST came to.
struct Answer {
    SubmitOutcome outcome = SubmitOutcome::unreachable;
    std::string detail;
    std::optional<std::int64_t> witness_size; // a 409 with text/x.tlog.size
    std::optional<store::StoredCosignature> cosignature;
};

std::string request_body(std::int64_t old_size, const std::vector<std::string>& proof,
                         const std::string& note) {
    std::string body = "old " + std::to_string(old_size) + "\n";
    for (const auto& h : proof) {
        body += crypto::base64_encode(h) + "\n";
    }
    return body + "\n" + note;
}

// The first line of the answer that is a valid cosignature by the witness on `note`.
std::optional<store::StoredCosignature> find_cosignature(const std::string& note,
                                                         std::string_view body, const Target& t) {
    while (!body.empty()) {
        const auto eol = body.find('\n');
        std::string line(body.substr(0, eol == std::string_view::npos ? body.size() : eol + 1));
        body.remove_prefix(line.size());
        if (line.back() != '\n') {
            line += "\n";
        }
        std::string error;
        auto parsed = audit::parse_note(note + line, error);
        if (!parsed) {
            continue;
        }
        const auto check = audit::check_cosignature(*parsed, t.key);
        if (check.check == audit::CosignatureCheck::ok) {
            return store::StoredCosignature{t.key.name, line, check.time};
        }
    }
    return std::nullopt;
}

// What an answer's status means in tlog-witness, in lethe's words: the witness's own body is
// never logged or stored (it is remote text; the size of a 409 is parsed, not echoed).
std::string status_meaning(long status) {
    switch (status) {
    case 400:
        return "the witness found the submission malformed";
    case 403:
        return "the witness does not trust the key that signed the checkpoint";
    case 404:
        return "the witness does not follow this log's origin";
    case 409:
        return "the witness holds another tree of this log (a fork) or another size";
    case 422:
        return "the consistency proof does not verify: the log was rewritten";
    case 429:
        return "rate limited";
    default:
        return status >= 500 ? "witness error" : "unexpected answer";
    }
}

Answer post(net::HttpClient& http, const Target& t, const std::string& body,
            const std::string& note) {
    net::HttpRequest req{"POST",
                         t.config->url + "/add-checkpoint",
                         {{"Content-Type", "text/plain; charset=utf-8"}},
                         body};
    const net::HttpResponse res = http.perform(req);
    Answer a;
    if (res.status == 0) {
        a.detail = res.transport_error;
        return a;
    }
    if (res.status == 200) {
        a.cosignature = find_cosignature(note, res.body, t);
        a.outcome = a.cosignature ? SubmitOutcome::cosigned : SubmitOutcome::refused;
        a.detail = a.cosignature ? "" : "HTTP 200 without a valid cosignature by its key";
        return a;
    }
    a.detail = "HTTP " + std::to_string(res.status) + ": " + status_meaning(res.status);
    const auto type = res.header("content-type");
    if (res.status == 409 && type && type->starts_with("text/x.tlog.size")) {
        std::string_view size = res.body;
        while (!size.empty() && (size.back() == '\n' || size.back() == '\r')) {
            size.remove_suffix(1);
        }
        a.witness_size = parse_int64(size);
    }
    a.outcome = res.status >= 500 || res.status == 429 ? SubmitOutcome::unreachable
                                                       : SubmitOutcome::refused;
    return a;
}

SubmitResult submit_one(store::Database& db, const Target& t, const store::StoredCheckpoint& cp,
                        net::HttpClient& http, const Clock& clock, Random& random, bool force) {
    SubmitResult result{t.key.name, SubmitOutcome::already, ""};
    for (const auto& c : store::cosignatures_of(db, cp.id)) {
        if (c.witness == t.key.name) {
            return result;
        }
    }
    auto state = store::witness_submission(db, t.key.name)
                     .value_or(store::WitnessSubmission{t.key.name, std::nullopt, 0, 0, ""});
    const TimeMs now = clock.now_ms();
    if (!force && state.next_attempt_at > now) {
        return SubmitResult{t.key.name, SubmitOutcome::waiting, state.last_error};
    }
    Answer a;
    for (int attempt = 0; attempt < k_max_tries; ++attempt) {
        const std::int64_t old_size =
            state.witness_size.value_or(store::largest_cosigned_size(db, t.key.name));
        if (old_size > cp.size) {
            a = Answer{SubmitOutcome::refused,
                       "the witness cosigned " + std::to_string(old_size) +
                           " entries, more than this log's latest checkpoint (" +
                           std::to_string(cp.size) + "): the log was rolled back",
                       std::nullopt, std::nullopt};
            break;
        }
        std::vector<std::string> proof;
        if (old_size > 0) {
            store::AuditSnapshot snap(db);
            proof = crypto::merkle::consistency_proof(old_size, cp.size, snap.tree_reader());
        }
        a = post(http, t, request_body(old_size, proof, cp.note), cp.note);
        if (!a.witness_size || *a.witness_size == old_size) {
            break;
        }
        state.witness_size = a.witness_size; // learnt from the 409: prove from there
    }
    if (a.cosignature) {
        store::insert_cosignature(db, cp.id, *a.cosignature, now);
        state = store::WitnessSubmission{t.key.name, cp.size, 0, 0, ""};
    } else {
        state.attempts += 1;
        state.next_attempt_at =
            now +
            worker::backoff_delay(k_backoff, std::min<std::int64_t>(state.attempts, 20), random);
        state.last_error = a.detail;
    }
    store::save_witness_submission(db, state, now);
    return SubmitResult{t.key.name, a.outcome, a.detail};
}

} // namespace

const char* describe(SubmitOutcome outcome) {
    switch (outcome) {
    case SubmitOutcome::cosigned:
        return "cosigned";
    case SubmitOutcome::already:
        return "already cosigned";
    case SubmitOutcome::waiting:
        return "waiting to retry";
    case SubmitOutcome::refused:
        return "refused";
    case SubmitOutcome::unreachable:
        return "unreachable";
    }
    return "unknown";
}

std::vector<SubmitResult> submit_latest_checkpoint(store::Database& db, const config::Config& cfg,
                                                   net::HttpClient& http, const Clock& clock,
                                                   Random& random, bool force) {
    std::vector<SubmitResult> results;
    if (cfg.audit.witnesses.empty()) {
        return results;
    }
    std::optional<store::StoredCheckpoint> cp;
    {
        store::AuditSnapshot snap(db);
        cp = snap.latest_checkpoint();
    }
    std::string error;
    auto parsed = cp ? audit::parse_note(cp->note, error) : std::nullopt;
    auto opened = parsed ? audit::parse_checkpoint_text(parsed->text, error) : std::nullopt;
    if (!opened || opened->legacy()) {
        return results; // nothing a witness can check (no checkpoint, or one without a root)
    }
    bool any_new = false;
    for (const auto& w : cfg.audit.witnesses) {
        std::string key_error;
        auto key = audit::parse_verifier_key(w.vkey, key_error, audit::k_note_cosignature_v1);
        if (!key) { // the config reader refuses this; a Config built in code may not
            results.push_back(SubmitResult{w.name, SubmitOutcome::refused, "vkey: " + key_error});
            continue;
        }
        Target t{&w, std::move(*key)};
        results.push_back(submit_one(db, t, *cp, http, clock, random, force));
        const auto& r = results.back();
        any_new = any_new || r.outcome == SubmitOutcome::cosigned;
        if (r.outcome == SubmitOutcome::refused) {
            spdlog::error("witness {} refused checkpoint {} ({} entries): {}", r.witness, cp->id,
                          cp->size, r.detail);
        } else if (r.outcome == SubmitOutcome::unreachable) {
            spdlog::warn("witness {} unreachable for checkpoint {}: {}; retried later", r.witness,
                         cp->id, r.detail);
        }
    }
    if (any_new) {
        audit::publish_checkpoint_note(cfg.audit.checkpoint_dir, cp->size, cp->head_hash,
                                       store::note_with_cosignatures(db, cp->id, cp->note));
    }
    return results;
}

} // namespace lethe::witness
