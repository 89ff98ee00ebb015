#include "backup/temp_database.hpp"

#include "util/fs.hpp"

#include <unistd.h>

namespace lethe::backup {

TempDatabase::TempDatabase(const std::filesystem::path& target) {
    UniqueFd fd(create_temp_beside(target, m_path));
}

TempDatabase::~TempDatabase() {
    remove_sidecars(m_path);
    if (!m_committed) {
        ::unlink(m_path.c_str());
    }
}

void TempDatabase::commit(const std::filesystem::path& target) {
    remove_sidecars(m_path);
    rename_durably(m_path, target);
    m_committed = true;
}

void remove_sidecars(const std::filesystem::path& db) {
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        std::filesystem::path p = db;
        p += suffix;
        ::unlink(p.c_str());
    }
}

} // namespace lethe::backup
