#include "audit/report.hpp"
#include "fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>

using namespace lethe;

namespace {

constexpr TimeMs k_day = 86'400'000;

// A database with known timestamps; the fake clock stands at 2026-11-22T12:00:00Z.
struct ReportFixture : test::AuditFixture {
    // Inserts a request received `days_ago`, then puts it in `state`, finished `finished_days_ago`.
    void add(const std::string& id, double days_ago, const std::string& state,
             double finished_days_ago = 0) {
        auto r = request(id, id + "@example.com");
        r.received_at = clock.now_ms() - static_cast<TimeMs>(days_ago * k_day);
        insert(r);
        if (state == "pending") {
            return;
        }
        SQLite::Statement q(db.db(), "UPDATE requests SET state = ?, identifier = CASE WHEN ? = "
                                     "'done' THEN NULL ELSE identifier END, finished_at = ? "
                                     "WHERE request_id = ?");
        q.bind(1, state);
        q.bind(2, state);
        q.bind(3, clock.now_ms() - static_cast<TimeMs>(finished_days_ago * k_day));
        q.bind(4, id);
        q.exec();
    }

    ReportFixture() {
        add("A", 10, "done", 9);     // 1 day, on time
        add("B", 20, "done", 17);    // 3 days, on time
        add("C", 40, "done", 5);     // 35 days, after its deadline (2026-11-13)
        add("D", 35, "pending");     // deadline 2026-11-18: overdue
        add("E", 27, "pending");     // deadline 2026-11-26: at risk
        add("F", 2, "pending");      // plenty of time
        add("G", 3, "cancelled", 1); // withdrawn
        add("H", 15, "dead", 1);     // failed, deadline still ahead
    }
};

} // namespace

TEST_CASE("report: figures on a database with known timestamps", "[audit][report]") {
    ReportFixture f;
    const auto r = audit::build_report(f.db, f.clock, {});
    CHECK(r.received == 8);
    CHECK(r.erased == 3);
    CHECK(r.dead == 1);
    CHECK(r.cancelled == 1);
    CHECK(r.in_progress == 3);
    // Times to erasure 1d, 3d, 35d: nearest-rank median is the 2nd, p95 the 3rd.
    CHECK(r.median_to_erasure == 3 * k_day);
    CHECK(r.p95_to_erasure == 35 * k_day);
    CHECK(r.erased_on_time == 2);
    CHECK(r.erased_late == 1);
    CHECK(r.missed_open == 1);
    REQUIRE(r.within_deadline_share);
    CHECK(*r.within_deadline_share == Approx(0.5)); // 2 on time of 3 erased + 1 overdue
    REQUIRE(r.overdue.size() == 1);
    CHECK(r.overdue[0].request_id == "D");
    REQUIRE(r.at_risk.size() == 1);
    CHECK(r.at_risk[0].request_id == "E");
    CHECK(r.days.size() == 41); // 2026-10-13 to 2026-11-22
    std::int64_t received = 0;
    std::int64_t erased = 0;
    for (const auto& d : r.days) {
        received += d.received;
        erased += d.erased;
    }
    CHECK(received == 8);
    CHECK(erased == 3);
}

TEST_CASE("report: --since and --until select by receipt", "[audit][report]") {
    ReportFixture f;
    audit::ReportOptions o;
    o.since = f.clock.now_ms() - 21 * k_day;
    o.until = f.clock.now_ms() - 5 * k_day;
    const auto r = audit::build_report(f.db, f.clock, o);
    CHECK(r.received == 3); // A (10 days ago), B (20), H (15)
    CHECK(r.erased == 2);
    CHECK(r.dead == 1);
    CHECK(r.median_to_erasure == 1 * k_day); // of 1d and 3d, nearest rank: the lower
}

TEST_CASE("report: every format names requests, never identifiers", "[audit][report]") {
    ReportFixture f;
    const auto r = audit::build_report(f.db, f.clock, {});
    const auto text = audit::report_text(r);
    const auto json = audit::report_json(r);
    const auto html = audit::report_html(r);
    for (const auto* out : {&text, &json, &html}) {
        CHECK(out->find("@example.com") == std::string::npos);
        CHECK(out->find("digest-") == std::string::npos);
    }
    CHECK(text.find("50.0%") != std::string::npos);
    auto j = nlohmann::json::parse(json);
    CHECK(j["counts"]["received"] == 8);
    CHECK(j["time_to_erasure_ms"]["median"] == 3 * k_day);
    CHECK(j["overdue"][0]["request_id"] == "D");
    // Self-contained: an inline SVG chart, no scripts, no external resources.
    CHECK(html.find("<svg") != std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("src=") == std::string::npos);
    CHECK(html.find("D</td>") != std::string::npos);
}

TEST_CASE("report: --until with a bare date includes that day", "[audit][report]") {
    CHECK(audit::parse_time_bound("--until", "2026-11-30", true) ==
          *parse_iso8601("2026-12-01T00:00:00Z"));
    CHECK(audit::parse_time_bound("--since", "2026-11-30", false) ==
          *parse_iso8601("2026-11-30T00:00:00Z"));
    CHECK_THROWS_WITH(audit::parse_time_bound("--since", "yesterday", false),
                      Catch::Contains("--since"));
}

TEST_CASE("report: the chart's gridlines are evenly spaced round numbers", "[audit][report]") {
    // The y-axis labels of the chart, in the order drawn (from 0 up).
    const auto axis_labels = [](const std::string& html) {
        static const std::regex label(R"(text-anchor="end">(\d+)</text>)");
        std::vector<std::int64_t> out;
        for (std::sregex_iterator it(html.begin(), html.end(), label), end; it != end; ++it) {
            out.push_back(std::stoll((*it)[1].str()));
        }
        return out;
    };
    for (std::int64_t busiest : {0, 1, 3, 4, 5, 7, 10, 11, 99, 100, 101, 1234, 987'654}) {
        INFO("busiest day: " << busiest);
        audit::Report r;
        r.days = {{0, busiest, busiest / 2}, {k_day, 1, 0}};
        const auto labels = axis_labels(audit::report_html(r));
        REQUIRE(labels.size() >= 2);
        REQUIRE(labels.size() <= 5);
        CHECK(labels.front() == 0);
        CHECK(labels.back() >= std::max<std::int64_t>(busiest, 1));
        const std::int64_t step = labels[1] - labels[0];
        for (std::size_t i = 1; i < labels.size(); ++i) {
            CHECK(labels[i] - labels[i - 1] == step);
        }
        std::int64_t mantissa = step;
        while (mantissa % 10 == 0) {
            mantissa /= 10;
        }
        CHECK((mantissa == 1 || mantissa == 2 || mantissa == 5));
        // No gridline more than one step above the busiest day.
        CHECK(labels.back() - step < std::max<std::int64_t>(busiest, 1));
    }
}

TEST_CASE("report: one linked duplicate is singular", "[audit][report]") {
    audit::Report r;
    r.received = 2;
    r.linked = 1;
    CHECK(audit::report_text(r).find("(1 linked duplicate)") != std::string::npos);
    CHECK(audit::report_html(r).find("(1 duplicate of another request)") != std::string::npos);
    r.linked = 2;
    CHECK(audit::report_text(r).find("(2 linked duplicates)") != std::string::npos);
}
