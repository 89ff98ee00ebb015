// The App API side of a verified workspace: resolve and verify in bulk reads, so that its limit
// of 10 requests/s does not slow erasures (issue 15, "Rates").
#include "../store/fixture.hpp"
#include "store/claims.hpp"
#include "util/strings.hpp"
#include "worker/worker.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace lethe;
using namespace lethe::worker;

namespace {

cio::CallResult ok() {
    cio::CallResult r;
    r.outcome = cio::Outcome::success;
    r.http_status = 200;
    return r;
}

// A workspace in memory: profiles by cio_id with an e-mail (and maybe an id). Erasure calls
// delete at once; App API reads count themselves.
struct FakeWorkspace {
    std::mutex mutex;
    bool email_is_identifier = true;
    std::map<std::string, std::string> email_of; // cio_id -> e-mail
    std::map<std::string, std::string> id_of;    // cio_id -> id, for the profiles that have one
    std::chrono::milliseconds read_time{0};      // how long each App API read takes
    std::atomic<int> reads_in_flight{0};
    std::atomic<int> most_reads_in_flight{0};
    std::int64_t app_calls = 0;
    std::int64_t bulk_calls = 0;
    std::int64_t searches = 0;
    std::set<std::string> suppressed; // "type:value"
    std::set<std::string> refuse;     // cio_ids whose suppress is refused (400)
    std::int64_t track_calls = 0;     // Track API calls: a batch is one

    void add(const std::string& cio_id, const std::string& email) { email_of[cio_id] = email; }
    std::vector<std::string> with_email(const std::string& email) {
        std::vector<std::string> out;
        for (const auto& [id, e] : email_of) {
            if (to_lower(e) == to_lower(email)) {
                out.push_back(id);
            }
        }
        return out;
    }
    std::vector<std::string> with_id(const std::string& id) {
        std::vector<std::string> out;
        for (const auto& [cio_id, i] : id_of) {
            if (i == id && email_of.count(cio_id) != 0) {
                out.push_back(cio_id);
            }
        }
        return out;
    }
    // Holds a read open for read_time, outside the lock, counting the reads open at once.
    void slow_read() {
        const int now = ++reads_in_flight;
        int seen = most_reads_in_flight.load();
        while (now > seen && !most_reads_in_flight.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(read_time);
        --reads_in_flight;
    }
    void erase(const cio::Target& who) {
        std::lock_guard lock(mutex);
        if (who.id_type == "cio_id") {
            email_of.erase(who.value);
        } else if (who.id_type == "email") {
            for (const auto& id : with_email(who.value)) {
                email_of.erase(id);
            }
        }
    }
};

class FakeTrack final : public ErasureApi {
public:
    explicit FakeTrack(FakeWorkspace& ws) : m_ws(ws) {}
    cio::CallResult suppress(const cio::Target& who) override {
        {
            std::lock_guard lock(m_ws.mutex);
            m_ws.track_calls += m_in_batch ? 0 : 1;
            if ((who.id_type == "email" && !m_ws.email_is_identifier) ||
                m_ws.refuse.count(who.value) != 0) {
                cio::CallResult r;
                r.outcome = cio::Outcome::permanent;
                r.http_status = 400;
                r.error = "HTTP 400";
                return r;
            }
            m_ws.suppressed.insert(who.id_type + ":" + who.value);
        }
        m_ws.erase(who);
        return ok();
    }
    cio::CallResult destroy(const cio::Target& who) override {
        {
            std::lock_guard lock(m_ws.mutex);
            m_ws.track_calls += m_in_batch ? 0 : 1;
        }
        m_ws.erase(who);
        return ok();
    }
    // One Track call for the whole batch; the operations as the default applies them.
    cio::BatchResult batch(erasure::Step step, const std::vector<cio::Target>& who) override {
        {
            std::lock_guard lock(m_ws.mutex);
            ++m_ws.track_calls;
        }
        m_in_batch = true;
        auto out = ErasureApi::batch(step, who);
        m_in_batch = false;
        return out;
    }

private:
    FakeWorkspace& m_ws;
    bool m_in_batch = false;
};

class FakeApp final : public VerifyApi {
public:
    explicit FakeApp(FakeWorkspace& ws) : m_ws(ws) {}
    cio::Lookup find(const cio::Target& who) override {
        std::lock_guard lock(m_ws.mutex);
        ++m_ws.app_calls;
        ++m_ws.searches;
        cio::Lookup l;
        l.call = ok();
        l.cio_ids = m_ws.with_email(who.value);
        return l;
    }
    cio::Lookup present(const std::vector<std::string>& cio_ids) override {
        m_ws.slow_read();
        std::lock_guard lock(m_ws.mutex);
        ++m_ws.app_calls;
        REQUIRE(cio_ids.size() <= cio::k_max_bulk_values);
        cio::Lookup l;
        l.call = ok();
        for (const auto& id : cio_ids) {
            if (m_ws.email_of.count(id) != 0) {
                l.cio_ids.push_back(id);
            }
        }
        return l;
    }
    cio::BulkLookup find_many(const std::string& id_type,
                              const std::vector<std::string>& values) override {
        m_ws.slow_read();
        std::lock_guard lock(m_ws.mutex);
        ++m_ws.app_calls;
        ++m_ws.bulk_calls;
        if (id_type == "id") {
            cio::BulkLookup l;
            l.call = ok();
            for (const auto& v : values) {
                l.cio_ids.push_back(m_ws.with_id(v));
            }
            return l;
        }
        REQUIRE(id_type == "email");
        REQUIRE(!values.empty());
        REQUIRE(values.size() <= cio::k_max_bulk_values);
        cio::BulkLookup l;
        l.call = ok();
        if (!m_ws.email_is_identifier) {
            l.call.outcome = cio::Outcome::permanent;
            l.call.http_status = 400;
            l.not_an_identifier = true;
            return l;
        }
        for (const auto& v : values) {
            l.cio_ids.push_back(m_ws.with_email(v));
        }
        return l;
    }

private:
    FakeWorkspace& m_ws;
};

class FixedRandom final : public Random {
public:
    std::uint64_t uniform(std::uint64_t max) override { return max; }
};

struct BatchFixture : test::StoreFixture {
    SystemClock real_clock;
    SystemSleeper sleeper;
    FixedRandom random;
    FakeWorkspace ws;
    store::WorkerQueue queue{db, real_clock, "w"};

    void add_requests(int n, int profiles_each = 1) {
        store::WriteBatch batch(db, clock, workspaces);
        for (int i = 0; i < n; ++i) {
            const std::string email = "person" + std::to_string(i) + "@example.com";
            store::NewRequest r = request("R" + std::to_string(i), email);
            r.id_type = "email";
            batch.insert(r);
            for (int p = 0; p < profiles_each; ++p) {
                // Upper case in the profile: e-mail matches case-insensitively.
                ws.add("c" + std::to_string(i) + "_" + std::to_string(p),
                       p == 0 ? email : to_upper_ascii(email));
            }
        }
        batch.commit();
    }
    static std::string to_upper_ascii(std::string s) {
        for (auto& c : s) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        return s;
    }
    WorkerReport run() {
        WorkerSettings s;
        s.pacing_ms = 0;
        s.concurrency = 4;
        s.once = true;
        s.app_interval_ms = 20;
        s.retry = {200, 1'000, 5};
        Worker w(
            queue, [this] { return std::make_unique<FakeTrack>(ws); }, s, real_clock, sleeper,
            random);
        w.set_verify_api_factory([this] { return std::make_unique<FakeApp>(ws); });
        return w.run();
    }
};

} // namespace

TEST_CASE("verified erasures are resolved and verified in bulk reads: far fewer App API calls "
          "than erasures",
          "[worker][batch]") {
    BatchFixture f;
    f.add_requests(250);
    auto rep = f.run();
    CHECK(rep.stop_reason == "drained");
    CHECK(rep.erased == 250);
    CHECK(f.count("SELECT count(*) FROM requests WHERE state = 'done'") == 250);
    CHECK(f.count("SELECT count(*) FROM erasures WHERE state = 'done' AND verified = 1") == 250);
    CHECK(f.ws.email_of.empty());
    // One call per erasure and step would be 750 (resolve, present, identifier). Bulk reads of
    // up to 100 make it a handful; how many depends on how the slots and the App API thread
    // interleave, so the bound is loose but far below one call per erasure.
    INFO("App API calls: " << f.ws.app_calls);
    CHECK(f.ws.app_calls <= 60);
    CHECK(f.ws.searches == 0);
    // Each resolve and each verification is in the evidence, per erasure.
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'erasure.resolved'") == 250);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'erasure.done'") == 250);
}

TEST_CASE("where e-mail is not an identifier, the batch falls back to one search per address and "
          "finds every profile sharing it",
          "[worker][batch]") {
    BatchFixture f;
    f.ws.email_is_identifier = false;
    f.add_requests(12, 3);
    auto rep = f.run();
    CHECK(rep.erased == 12);
    CHECK(f.count("SELECT count(*) FROM erasures WHERE state = 'done' AND verified = 1") == 12);
    CHECK(f.ws.email_of.empty()); // all 36 profiles, by cio_id
    CHECK(f.count("SELECT sum(profiles) FROM erasures") == 36);
    // The bulk read was refused once (400), then every address was searched: at resolve and at
    // verification.
    CHECK(f.ws.bulk_calls == 1);
    CHECK(f.ws.searches >= 24);
    // Two Track calls per person: one batch suppresses the three profiles and tries the
    // address (refused: not an identifier here, which is recorded, not a failure), one deletes.
    CHECK(f.ws.track_calls == 24);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.suppress' AND "
                  "json_extract(detail, '$.target') = 'batch' AND "
                  "json_extract(detail, '$.operations') = 4") == 12);
}

TEST_CASE("a verified erasure costs two Track calls however many profiles it finds",
          "[worker][batch]") {
    BatchFixture f;
    f.add_requests(20, 2);
    auto rep = f.run();
    CHECK(rep.erased == 20);
    CHECK(f.ws.email_of.empty());
    CHECK(f.ws.track_calls == 40);
    // Suppressed by cio_id, and the address itself, so it cannot be added again.
    CHECK(f.ws.suppressed.count("email:person7@example.com") == 1);
    CHECK(f.ws.suppressed.count("cio_id:c7_1") == 1);
}

TEST_CASE("an operation a batch refuses fails the step: the erasure is not done",
          "[worker][batch]") {
    BatchFixture f;
    f.add_requests(3, 2);
    f.ws.refuse = {"c1_1"};
    f.run();
    CHECK(f.count("SELECT count(*) FROM requests WHERE state = 'done'") == 2);
    CHECK(f.count("SELECT count(*) FROM erasures WHERE state = 'done'") == 2);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'call.suppress' AND "
                  "json_extract(detail, '$.error') = 'HTTP 207: 1 of 3 operations refused'") >= 1);
    CHECK(f.count("SELECT count(*) FROM requests WHERE request_id = 'R1' AND state = 'done'") == 0);
}

TEST_CASE("bulk reads match answers back to the requests, duplicates included", "[worker][batch]") {
    BatchFixture f;
    f.add_requests(3);
    // A fourth request for the same person as R0: linked, or its own erasure; either way R0's
    // profile is found for it and it ends done.
    store::NewRequest dup = f.request("R-dup", "PERSON0@example.com");
    dup.id_type = "email";
    dup.subject_digest = "digest-dup";
    f.insert(dup);
    auto rep = f.run();
    CHECK(f.count("SELECT count(*) FROM requests WHERE state = 'done'") == 4);
    CHECK(f.ws.email_of.empty());
}

TEST_CASE("a verification reads the erased profiles and each identifier type at once",
          "[worker][batch]") {
    BatchFixture f;
    f.ws.read_time = std::chrono::milliseconds(60); // longer than the App API's 20 ms spacing
    f.add_requests(10);
    {
        store::WriteBatch batch(f.db, f.clock, f.workspaces);
        for (int i = 0; i < 10; ++i) {
            const std::string id = "u" + std::to_string(i);
            store::NewRequest r = f.request("ID" + std::to_string(i), id);
            r.id_type = "id";
            r.subject_digest = "digest-" + id;
            batch.insert(r);
            f.ws.add("p" + std::to_string(i), "other" + std::to_string(i) + "@example.com");
            f.ws.id_of["p" + std::to_string(i)] = id;
        }
        batch.commit();
    }
    auto rep = f.run();
    CHECK(rep.erased == 20);
    CHECK(f.count("SELECT count(*) FROM erasures WHERE state = 'done' AND verified = 1") == 20);
    CHECK(f.ws.email_of.empty());
    // Profiles, e-mails and ids: three independent reads, in flight together.
    CHECK(f.ws.most_reads_in_flight >= 2);
    CHECK(f.ws.most_reads_in_flight <= 3);
}
