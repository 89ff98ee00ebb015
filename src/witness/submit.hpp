#pragma once

#include "config/config.hpp"
#include "net/http.hpp"
#include "store/database.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

#include <string>
#include <vector>

// The log's side of C2SP tlog-witness: after a checkpoint, lethe submits it with a consistency
// proof to each [[audit.witness]] and keeps the cosignatures; a witness that is down or refuses
// is retried with backoff at the next submission (docs/audit-format.md, "Witnesses").
namespace lethe::witness {

enum class SubmitOutcome {
    cosigned,    // the witness returned a valid cosignature now
    already,     // the latest checkpoint carries its cosignature
    waiting,     // an earlier failure's backoff has not passed
    refused,     // the witness answered but did not cosign (a rewritten log, a wrong key, ...)
    unreachable, // no answer, or a server error: retried later
};

const char* describe(SubmitOutcome outcome);

struct SubmitResult {
    std::string witness;
    SubmitOutcome outcome = SubmitOutcome::waiting;
    std::string detail; // the witness's words or the transport error; never a secret
};

// Submits the latest stored checkpoint to every configured witness that has not cosigned it and
// whose backoff has passed (`force`: regardless of backoff). Nothing happens without witnesses or
// checkpoints. Throws SQLite::Exception on database failure; network failures are results.
std::vector<SubmitResult> submit_latest_checkpoint(store::Database& db, const config::Config& cfg,
                                                   net::HttpClient& http, const Clock& clock,
                                                   Random& random, bool force);

} // namespace lethe::witness
