#pragma once

#include "audit/keys.hpp"
#include "intake/validate.hpp"
#include "store/redigest.hpp"
#include "store/requests.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Admission: where every request enters the queue, whatever its source (CSV import, the command
// line, the HTTP intake): validated, digested and inserted with its erasures.
namespace lethe::intake {

// What an admission run did, for the receipt.
struct AdmissionCounts {
    std::int64_t rows = 0;    // requests offered
    std::int64_t created = 0; // new requests that will be erased
    std::int64_t known = 0;   // already in the queue with the same content
    std::int64_t linked = 0;  // new, linked to the active request for the same subject
    std::int64_t bad = 0;     // refused
};

// The intake sender a request comes from (docs/intake.md, "Senders"); empty for CSV and the CLI.
struct SenderTag {
    std::string name;
    bool callback = false; // the sender has a callback_url
};

// A request validated and digested, ready to insert; or why it was refused.
struct PreparedRequest {
    std::optional<store::NewRequest> request;
    std::string reason; // never containing the identifier
};

// Validates and digests one request received from `source` ("file.csv:12", "cli", "http") at
// `now`; `workspaces`: the configured workspace names (a request naming others is refused).
PreparedRequest prepare_request(const RawRequest& raw, const std::string& source, TimeMs now,
                                const audit::SubjectDigester& digester,
                                const std::vector<std::string>& workspaces);

// The reason given for a request_id that is known with other content.
std::string conflict_reason(const std::string& request_id);

// Validates requests and queues them in one transaction: nothing lands until commit().
class Admission {
public:
    // `workspaces`: the configured workspace names; a request naming others is refused.
    Admission(store::Database& db, const Clock& clock, const audit::SubjectDigester& digester,
              std::vector<std::string> workspaces);
    // Validates and inserts one request. Returns the reason when it is refused (never containing
    // the identifier); the caller then must not commit.
    std::optional<std::string> admit(const RawRequest& raw, const std::string& source,
                                     const SenderTag& sender = {});
    // Commits everything admitted so far.
    void commit() { m_batch.commit(); }
    // After commit(): admits the next requests in a new transaction (store::WriteBatch).
    void begin_next() { m_batch.begin_next(); }
    const AdmissionCounts& counts() const { return m_counts; }
    // The outcome of the last admit(): its insert's, or `known` with an empty request_id when it
    // was refused before inserting (for single-request commands and the HTTP intake).
    const store::InsertResult& last() const { return m_last; }
    const std::string& last_request_id() const { return m_last_request_id; }
    const std::string& last_subject_digest() const { return m_last_subject_digest; }

private:
    const Clock& m_clock;
    std::vector<std::string> m_workspaces;
    const audit::SubjectDigester& m_digester;
    store::WriteBatch m_batch;
    AdmissionCounts m_counts;
    store::InsertResult m_last{store::InsertOutcome::known, {}, {}, {}, false};
    std::string m_last_request_id;
    std::string m_last_subject_digest;
};

// Reads the subject key named by the configuration.
audit::SubjectDigester load_digester(const std::filesystem::path& subject_key_file);

// Runs the one-time re-digest of subject digest v2 (store::redigest_pending) with `digester`,
// logging what it did; does nothing when it ran before. Call it before admitting anything. Throws
// SQLite::Exception on database failure.
store::RedigestReport upgrade_subject_digests(store::Database& db, const Clock& clock,
                                              const audit::SubjectDigester& digester);

} // namespace lethe::intake
