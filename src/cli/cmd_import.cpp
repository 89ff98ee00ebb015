#include "cli/command.hpp"
#include "intake/admission.hpp"
#include "intake/csv_reader.hpp"
#include "store/database.hpp"
#include "store/import_staging.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/strings.hpp"

#include <cctype>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <unistd.h>

namespace lethe::cli {
namespace {

constexpr std::size_t k_max_listed_errors = 50;
constexpr std::int64_t k_progress_every_rows = 50'000;
constexpr TimeMs k_max_lock_wait_ms = 10 * 60'000;

// Collects bad rows: the first 50 verbatim, the rest counted.
class BadRows {
public:
    void add(const std::string& where, const std::string& reason) {
        ++m_count;
        if (m_listed.size() < k_max_listed_errors) {
            m_listed.push_back(where + ": " + reason);
        }
    }
    std::int64_t count() const { return m_count; }
    void print(std::ostream& out) const {
        for (const auto& line : m_listed) {
            out << line << "\n";
        }
        if (m_count > static_cast<std::int64_t>(m_listed.size())) {
            out << "... and " << (m_count - static_cast<std::int64_t>(m_listed.size()))
                << " more bad rows\n";
        }
    }

private:
    std::vector<std::string> m_listed;
    std::int64_t m_count = 0;
};

// Where each known column sits in a file's header row.
struct Columns {
    int identifier = -1;
    int request_id = -1;
    int id_type = -1;
    int received_at = -1;
    int workspaces = -1;
    std::size_t count = 0;
};

// A header cell fit to print: a file without a header row would otherwise show its first row
// (personal data) in the warning, so anything that does not look like a column name is shown by
// position only.
std::string column_label(std::string_view cell, std::size_t index) {
    std::string_view name = trim(cell);
    bool plain = !name.empty() && name.size() <= 40;
    for (char c : name) {
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                          c == ' ' || c == '.');
    }
    return plain ? "'" + std::string(name) + "'" : "#" + std::to_string(index + 1);
}

// Maps the header row; unknown columns are ignored with a warning. Returns a reason on failure.
std::optional<std::string> read_header(const intake::CsvRecord& header, const std::string& name,
                                       Columns& cols) {
    if (!header.error.empty()) {
        return header.error;
    }
    std::map<std::string, int*> known = {{"identifier", &cols.identifier},
                                         {"request_id", &cols.request_id},
                                         {"id_type", &cols.id_type},
                                         {"received_at", &cols.received_at},
                                         {"workspaces", &cols.workspaces}};
    cols.count = header.fields.size();
    std::vector<std::size_t> ignored;
    for (std::size_t i = 0; i < header.fields.size(); ++i) {
        std::string col = to_lower(trim(header.fields[i]));
        auto it = known.find(col);
        if (it == known.end()) {
            ignored.push_back(i);
            continue;
        }
        if (*it->second >= 0) {
            return "column '" + col + "' appears twice in the header";
        }
        *it->second = static_cast<int>(i);
    }
    if (cols.identifier < 0) {
        // Most likely a file without a header row: its first row is a person's data, so its
        // cells are not listed as "ignored columns".
        return "the header has no 'identifier' column";
    }
    for (std::size_t i : ignored) {
        std::cerr << "lethe: warning: " << name << ":" << header.line << ": ignoring column "
                  << column_label(header.fields[i], i) << "\n";
    }
    return std::nullopt;
}

std::string field_or_empty(const intake::CsvRecord& rec, int index) {
    return index >= 0 ? rec.fields[static_cast<std::size_t>(index)] : std::string();
}

// What an import did, for the receipt.
struct ImportCounts {
    std::int64_t rows = 0;
    std::int64_t staged = 0;
    std::int64_t created = 0;
    std::int64_t known = 0;
    std::int64_t linked = 0;
};

// Validated rows on their way into the stager, k_stage_chunk_rows per transaction.
struct Staging {
    Staging(store::ImportStager& s, const audit::SubjectDigester& d,
            const std::vector<std::string>& w, const Clock& c)
        : stager(s), digester(d), workspaces(w), clock(c) {}

    store::ImportStager& stager;
    const audit::SubjectDigester& digester;
    const std::vector<std::string>& workspaces;
    const Clock& clock;
    BadRows bad;
    ImportCounts counts;
    std::vector<store::NewRequest> pending;

    void add(const intake::RawRequest& raw, const std::string& where) {
        intake::PreparedRequest prepared =
            intake::prepare_request(raw, where, clock.now_ms(), digester, workspaces);
        if (!prepared.request) {
            bad.add(where, prepared.reason);
            return;
        }
        pending.push_back(std::move(*prepared.request));
        if (pending.size() >= store::k_stage_chunk_rows) {
            flush();
        }
    }

    void flush() {
        if (pending.empty()) {
            return;
        }
        const auto outcomes = stager.stage(pending);
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            count(outcomes[i], pending[i]);
        }
        pending.clear();
    }

    void count(store::StageOutcome outcome, const store::NewRequest& row) {
        switch (outcome) {
        case store::StageOutcome::staged:
            ++counts.staged;
            break;
        case store::StageOutcome::known:
            ++counts.known;
            break;
        case store::StageOutcome::conflict:
            bad.add(row.source, intake::conflict_reason(row.request_id));
            break;
        }
    }
};

// `lethe import FILE... [--dry-run]`.
class ImportCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer(
            "Imports erasure requests from CSV files (RFC 4180, header row, UTF-8). Columns by "
            "name: identifier (required), request_id, id_type (id|email|cio_id|phone), received_at "
            "(ISO 8601). All or nothing: if any row is bad, every bad row is listed as "
            "FILE:LINE: reason and nothing is imported. Re-importing a file adds nothing.");
        app.add_option("files", m_files, "CSV files; '-' reads standard input")->required();
        app.add_flag("--dry-run", m_dry_run, "Validate and count, but write nothing");
    }

    int run(Context& ctx) override {
        auto digester = intake::load_digester(ctx.config().audit.subject_key_file);
        store::Database& db = ctx.database();
        if (!m_dry_run) {
            // A dry run writes nothing, not even the upgrade; its counts may then miss a
            // duplicate that differs only in the case of its e-mail address.
            intake::upgrade_subject_digests(db, ctx.clock(), digester);
        }
        // Every input is opened, and standard input read to its end, before anything is
        // written: a stalled `import -` stalls nobody. Regular files are read as they are staged.
        std::vector<Input> inputs;
        for (const auto& file : m_files) {
            inputs.push_back(open_input(file));
        }
        SystemSleeper sleeper;
        const std::vector<std::string> workspaces = config::workspace_names(ctx.config());
        store::ImportLock lock = take_import_lock(db, sleeper);
        if (!m_dry_run) {
            store::recover_imports(db, ctx.clock(), sleeper, lock, workspaces);
        }
        // All or nothing, in chunks (store/import_staging.hpp): rows are staged in short
        // transactions and land only after the commit point; a bad row, an error or a kill
        // before it leaves nothing in the queue.
        store::ImportStager stager(db, ctx.clock(), sleeper, lock, say_lock_busy);
        Staging staging(stager, digester, workspaces, ctx.clock());
        m_progress = ::isatty(STDERR_FILENO) != 0;
        for (auto& input : inputs) {
            with_input_errors([&] {
                if (input.file) {
                    read_rows(input.file->name(), input.file->stream(), staging);
                } else {
                    std::istringstream stream(input.buffered);
                    read_rows("stdin", stream, staging);
                }
            });
        }
        staging.flush();
        clear_progress();
        if (staging.bad.count() > 0) {
            stager.discard();
            staging.bad.print(std::cerr);
            throw InputError(std::to_string(staging.bad.count()) + " bad row" +
                             (staging.bad.count() == 1 ? "" : "s") + "; nothing was imported");
        }
        if (m_dry_run) {
            const store::StagedForecast forecast = stager.forecast();
            staging.counts.created = forecast.created;
            staging.counts.linked = forecast.linked;
            stager.discard();
            print_receipt(staging.counts);
            return 0;
        }
        stager.commit();
        return publish(ctx, stager.batch(), workspaces, sleeper, staging.counts);
    }

private:
    // A named file, opened; or standard input, read to its end.
    struct Input {
        std::optional<InputFile> file;
        std::string buffered;
    };

    // Bounded reads (FileKind::import_csv) throw InputError: said with "nothing was imported".
    template <class F> static void with_input_errors(F&& read) {
        try {
            read();
        } catch (const InputError& e) {
            throw InputError(std::string(e.what()) + "; nothing was imported");
        }
    }

    static Input open_input(const std::string& file) {
        // A named file must be a regular file (a directory, FIFO or device is refused by name);
        // a pipe is read as '-'. Either way the input is bounded, and a file that turns out too
        // large or unreadable stops the import with nothing written.
        Input input;
        with_input_errors([&] {
            if (file == "-") {
                input.buffered = InputFile::standard_input(FileKind::import_csv).read_all();
            } else {
                input.file.emplace(file, FileKind::import_csv);
            }
        });
        return input;
    }

    // One import at a time: a second one waits for the first, up to ten minutes, and says so.
    static store::ImportLock take_import_lock(store::Database& db, Sleeper& sleeper) {
        return store::ImportLock::acquire(db, sleeper, k_max_lock_wait_ms, [] {
            std::cerr << "lethe import: another import is running; waiting for it to finish\n";
        });
    }

    static void say_lock_busy() {
        std::cerr << "lethe import: another process holds the database's write lock; waiting "
                     "for it\n";
    }

    void read_rows(const std::string& name, std::istream& in, Staging& staging) {
        intake::CsvReader reader(in);
        intake::CsvRecord rec;
        if (!reader.next(rec)) {
            staging.bad.add(name + ":1",
                            "empty file: expected a header row with an 'identifier' column");
            return;
        }
        Columns cols;
        if (auto reason = read_header(rec, name, cols)) {
            staging.bad.add(name + ":" + std::to_string(rec.line), *reason);
            return;
        }
        while (reader.next(rec)) {
            import_row(rec, cols, name, staging);
        }
    }

    void import_row(const intake::CsvRecord& rec, const Columns& cols, const std::string& name,
                    Staging& staging) {
        const std::string where = name + ":" + std::to_string(rec.line);
        ++staging.counts.rows;
        if (!rec.error.empty()) {
            staging.bad.add(where, rec.error);
        } else if (rec.fields.size() != cols.count) {
            staging.bad.add(where, "expected " + std::to_string(cols.count) + " fields, found " +
                                       std::to_string(rec.fields.size()));
        } else {
            intake::RawRequest raw;
            raw.identifier = field_or_empty(rec, cols.identifier);
            raw.request_id = field_or_empty(rec, cols.request_id);
            raw.id_type = field_or_empty(rec, cols.id_type);
            raw.received_at = field_or_empty(rec, cols.received_at);
            raw.workspaces = field_or_empty(rec, cols.workspaces);
            staging.add(raw, where);
        }
        if (m_progress && staging.counts.rows % k_progress_every_rows == 0) {
            std::cerr << "\rimporting " << name << ": " << staging.counts.rows << " rows"
                      << std::flush;
        }
    }

    // Publishes the committed batch; the import has landed once this starts.
    int publish(Context& ctx, std::int64_t batch, const std::vector<std::string>& workspaces,
                Sleeper& sleeper, ImportCounts counts) {
        const std::int64_t staged = counts.staged;
        auto published = store::publish_batch(
            ctx.database(), ctx.clock(), sleeper, batch, workspaces, [&](std::int64_t done) {
                if (m_progress) {
                    std::cerr << "\rpublishing: " << done << " of " << staged << " rows"
                              << std::flush;
                }
            });
        clear_progress();
        counts.created = published.created;
        counts.linked = published.linked;
        counts.known += published.known;
        print_receipt(counts);
        for (const auto& where : published.conflicts) {
            std::cerr << where
                      << ": its request_id was admitted during the import with other "
                         "content; this row was not imported\n";
        }
        return published.conflicts.empty() ? 0 : 1;
    }

    void clear_progress() const {
        if (m_progress) {
            std::cerr << "\r\033[K";
        }
    }

    void print_receipt(const ImportCounts& c) const {
        std::cout << (m_dry_run ? "dry run, nothing written\n" : "")
                  << "rows read:         " << c.rows << "\n"
                  << "new requests:      " << c.created << "\n"
                  << "already known:     " << c.known << "\n"
                  << "linked duplicates: " << c.linked << "\n";
    }

    std::vector<std::string> m_files;
    bool m_dry_run = false;
    bool m_progress = false;
};

} // namespace

std::unique_ptr<Command> make_import_command() {
    return std::make_unique<ImportCommand>();
}

} // namespace lethe::cli
