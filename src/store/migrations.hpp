#pragma once

#include <string_view>
#include <vector>

namespace lethe::store {

// One numbered schema migration from migrations/NNNN_name.sql.
struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// The migrations compiled into this binary, in version order (1, 2, ...).
const std::vector<Migration>& embedded_migrations();

// Versions left out of embedded_migrations() on purpose: numbers reserved for a migration on
// another branch, not yet merged (migrations/meson.build). Empty once every branch is merged.
const std::vector<int>& reserved_migration_versions();

// The schema version this binary writes: the highest embedded migration.
int latest_schema_version();

} // namespace lethe::store
