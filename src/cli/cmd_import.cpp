#include "cli/command.hpp"
#include "intake/admission.hpp"
#include "intake/csv_reader.hpp"
#include "store/database.hpp"
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
        if (!m_dry_run) {
            // A dry run writes nothing, not even the upgrade; its counts may then miss a
            // duplicate that differs only in the case of its e-mail address.
            intake::upgrade_subject_digests(ctx.database(), ctx.clock(), digester);
        }
        // Every input is opened, and standard input read to its end, before the write lock is
        // taken: a writer never holds it while it waits on a pipe, so a stalled `import -`
        // stalls nobody else. Regular files are read under the lock, as they never wait.
        std::vector<Input> inputs;
        for (const auto& file : m_files) {
            inputs.push_back(open_input(file));
        }
        std::optional<intake::Admission> admission;
        open_admission(ctx, digester, admission);
        BadRows bad;
        m_progress = ::isatty(STDERR_FILENO) != 0;
        for (auto& input : inputs) {
            with_input_errors([&] {
                if (input.file) {
                    read_rows(input.file->name(), input.file->stream(), *admission, bad);
                } else {
                    std::istringstream stream(input.buffered);
                    read_rows("stdin", stream, *admission, bad);
                }
            });
        }
        if (m_progress) {
            std::cerr << "\r\033[K";
        }
        if (bad.count() > 0) {
            bad.print(std::cerr);
            throw InputError(std::to_string(bad.count()) + " bad row" +
                             (bad.count() == 1 ? "" : "s") + "; nothing was imported");
        }
        if (!m_dry_run) {
            admission->commit();
        }
        print_receipt(admission->counts());
        return 0;
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

    // Takes the write lock for the whole import (all or nothing). Another writer holding it (a
    // second import) is waited for, up to ten minutes, and named when the wait is too long.
    static void open_admission(Context& ctx, const audit::SubjectDigester& digester,
                               std::optional<intake::Admission>& admission) {
        try {
            store::retry_while_busy(
                [&] {
                    admission.emplace(ctx.database(), ctx.clock(), digester,
                                      config::workspace_names(ctx.config()));
                    return 0;
                },
                [] {
                    std::cerr << "lethe import: another process holds the database's write "
                                 "lock (an import?); waiting for it\n";
                });
        } catch (const std::exception& e) {
            if (!store::is_busy(e)) {
                throw;
            }
            throw DatabaseError("another process (an import, or a worker writing) held the "
                                "database's write lock for ten minutes; nothing was imported: "
                                "try again");
        }
    }

    void read_rows(const std::string& name, std::istream& in, intake::Admission& admission,
                   BadRows& bad) {
        intake::CsvReader reader(in);
        intake::CsvRecord rec;
        if (!reader.next(rec)) {
            bad.add(name + ":1", "empty file: expected a header row with an 'identifier' column");
            return;
        }
        Columns cols;
        if (auto reason = read_header(rec, name, cols)) {
            bad.add(name + ":" + std::to_string(rec.line), *reason);
            return;
        }
        while (reader.next(rec)) {
            import_row(rec, cols, name, admission, bad);
        }
    }

    void import_row(const intake::CsvRecord& rec, const Columns& cols, const std::string& name,
                    intake::Admission& admission, BadRows& bad) {
        const std::string where = name + ":" + std::to_string(rec.line);
        if (!rec.error.empty()) {
            bad.add(where, rec.error);
            return;
        }
        if (rec.fields.size() != cols.count) {
            bad.add(where, "expected " + std::to_string(cols.count) + " fields, found " +
                               std::to_string(rec.fields.size()));
            return;
        }
        intake::RawRequest raw;
        raw.identifier = field_or_empty(rec, cols.identifier);
        raw.request_id = field_or_empty(rec, cols.request_id);
        raw.id_type = field_or_empty(rec, cols.id_type);
        raw.received_at = field_or_empty(rec, cols.received_at);
        raw.workspaces = field_or_empty(rec, cols.workspaces);
        if (auto reason = admission.admit(raw, where)) {
            bad.add(where, *reason);
        }
        if (m_progress && admission.counts().rows % k_progress_every_rows == 0) {
            std::cerr << "\rimporting " << name << ": " << admission.counts().rows << " rows"
                      << std::flush;
        }
    }

    void print_receipt(const intake::AdmissionCounts& c) const {
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
