#pragma once

#include "store/database.hpp"

#include <cstdint>

namespace lethe::store {

// What seal_identifiers() changed.
struct SealReport {
    std::int64_t identifiers = 0; // requests' identifiers sealed anew
    std::int64_t profiles = 0;    // erasures' profiles sealed anew
};

// Seals every identifier and profile still in plain text (written before lethe sealed them) or
// sealed under a key other than the current one (after a rotation), in one transaction, so the
// older key can then be dropped. Needs the identifier key; cheap when there is nothing to do.
SealReport seal_identifiers(Database& db);

// True when some request or profile is sealed (so only the key it was sealed with opens it).
bool holds_sealed_identifiers(Database& db);

// True when some request, staged import row or profile still holds its identifier in plain text
// (written before lethe sealed identifiers, and not yet sealed by seal_identifiers()).
bool holds_plain_identifiers(Database& db);

} // namespace lethe::store
