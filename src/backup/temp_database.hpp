#pragma once

#include <filesystem>

namespace lethe::backup {

// A temporary database file beside a target (util create_temp_beside: mode 0600, an unguessable
// name), removed with its -wal and -shm files unless released: a failed backup or restore leaves
// nothing half-written behind.
class TempDatabase {
public:
    explicit TempDatabase(const std::filesystem::path& target);
    ~TempDatabase();
    TempDatabase(const TempDatabase&) = delete;
    TempDatabase& operator=(const TempDatabase&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    // Moves the file to `target` durably (util rename_durably); from then on it is not removed.
    void commit(const std::filesystem::path& target);

private:
    std::filesystem::path m_path;
    bool m_committed = false;
};

// Removes `db`'s -wal and -shm files if present.
void remove_sidecars(const std::filesystem::path& db);

} // namespace lethe::backup
