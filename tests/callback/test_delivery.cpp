#include "../net/local_server.hpp"
#include "../store/fixture.hpp"
#include "callback/delivery.hpp"
#include "net/curl_client.hpp"
#include "receiver.hpp"
#include "store/callback_outbox.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace lethe;
using nlohmann::json;

namespace {

const std::string k_secret = "portal-callback-secret-0123456789";

// Jitter at its largest: the retry times are then known exactly.
class MaxRandom final : public Random {
public:
    std::uint64_t uniform(std::uint64_t max_inclusive) override { return max_inclusive; }
};

struct CallbackFixture : test::StoreFixture {
    MaxRandom random;
    net::CurlHttpClient http{[] {
        net::CurlOptions o;
        o.timeout_ms = 5'000;
        o.connect_timeout_ms = 2'000;
        return o;
    }()};

    // A request of sender "portal", which has a callback_url.
    void submit(const std::string& request_id, const std::string& identifier,
                bool callback = true) {
        auto r = request(request_id, identifier);
        r.source = "http";
        r.sender = "portal";
        r.callback = callback;
        insert(r);
    }

    // Moves a request to `state` as the worker or `lethe cancel` would (the trigger writes the
    // event); `done` also drops the identifier, as the table's CHECK requires.
    void set_state(const std::string& request_id, const std::string& state) {
        SQLite::Statement upd(db.db(), "UPDATE requests SET state = ?, updated_at = ?, "
                                       "identifier = CASE WHEN ? = 'done' THEN NULL ELSE "
                                       "identifier END WHERE request_id = ?");
        upd.bind(1, state);
        upd.bind(2, clock.now_ms());
        upd.bind(3, state);
        upd.bind(4, request_id);
        upd.exec();
    }

    callback::CallbackDelivery delivery(const std::string& url, TimeMs retry_ms = 72 * 3'600'000) {
        return callback::CallbackDelivery(db, http, clock, random,
                                          {{"portal", url, k_secret, retry_ms}});
    }

    std::vector<std::string> event_ids(const std::string& request_id) {
        SQLite::Statement q(db.db(), "SELECT e.event_id FROM callback_events e JOIN requests r ON "
                                     "r.id = e.request WHERE r.request_id = ? ORDER BY e.id");
        q.bind(1, request_id);
        std::vector<std::string> out;
        while (q.executeStep()) {
            out.push_back(q.getColumn(0).getString());
        }
        return out;
    }
};

} // namespace

TEST_CASE("finishing a request of a sender with a callback writes an event in the same "
          "transaction",
          "[callback]") {
    CallbackFixture f;
    f.submit("R1", "alice");
    f.submit("R2", "bob", /*callback=*/false);
    f.insert(f.request("R3", "carol")); // CSV: no sender
    {
        SQLite::Transaction tx(f.db.db());
        f.set_state("R1", "cancelled");
        // Rolled back with the state change: neither happened.
    }
    CHECK(f.count("SELECT count(*) FROM callback_events") == 0);
    CHECK(f.state_of("R1") == "pending");
    for (const char* id : {"R1", "R2", "R3"}) {
        f.set_state(id, "dead");
    }
    CHECK(f.count("SELECT count(*) FROM callback_events") == 1);
    f.set_state("R1", "pending"); // `lethe retry`: no event
    f.set_state("R1", "done");
    const auto ids = f.event_ids("R1");
    REQUIRE(ids.size() == 2);
    CHECK(ids[0] != ids[1]);
    CHECK(ids[0].size() == 32);
    CHECK(f.count("SELECT count(*) FROM callback_events WHERE status = 'pending' AND sender = "
                  "'portal'") == 2);
}

TEST_CASE("a receiver down, then failing, then up gets each event once and in order",
          "[callback]") {
    CallbackFixture f;
    f.submit("R1", "alice");
    f.submit("R2", "bob");
    f.set_state("R1", "dead");
    f.set_state("R2", "cancelled");
    f.set_state("R1", "pending");
    f.clock.advance(1'000);
    f.set_state("R1", "done");
    const auto r1 = f.event_ids("R1");
    const auto r2 = f.event_ids("R2");
    REQUIRE(r1.size() == 2);
    REQUIRE(r2.size() == 1);

    const int port = test::closed_port();
    test::CallbackReceiver receiver(port, k_secret);
    auto delivery = f.delivery(receiver.url());

    // Down: one attempt per request (R1's second event waits for its first), each rescheduled
    // after 10 s at most (base 10 s, equal jitter at its largest).
    CHECK(delivery.deliver_due() == 2);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'callback.retry' AND "
                  "json_extract(detail, '$.error') = 'connection failed' AND "
                  "json_extract(detail, '$.status') = 0") == 2);
    CHECK(delivery.deliver_due() == 0); // nothing is due before the retry time
    CHECK(delivery.next_due() == f.clock.now_ms() + 10'000);

    // Up, but answering 500: the second attempt fails too, and waits 20 s.
    receiver.start();
    receiver.answer(500);
    f.clock.advance(10'000);
    CHECK(delivery.deliver_due() == 2);
    CHECK(receiver.deliveries().size() == 2);
    CHECK(receiver.effects().empty());
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'callback.retry' AND "
                  "json_extract(detail, '$.error') = 'HTTP 500' AND "
                  "json_extract(detail, '$.attempt') = 2") == 2);
    CHECK(delivery.next_due() == f.clock.now_ms() + 20'000);

    // 200: every event, R1's in order, each applied once.
    receiver.answer(200);
    f.clock.advance(20'000);
    CHECK(delivery.deliver_due() == 3);
    const auto effects = receiver.effects();
    REQUIRE(effects.size() == 3);
    CHECK(std::set<std::string>(effects.begin(), effects.end()) ==
          std::set<std::string>{r1[0], r1[1], r2[0]});
    const auto pos = [&](const std::string& id) {
        return std::find(effects.begin(), effects.end(), id) - effects.begin();
    };
    CHECK(pos(r1[0]) < pos(r1[1]));
    CHECK(delivery.deliver_due() == 0);
    CHECK(receiver.deliveries().size() == 5); // 2 answered 500, 3 answered 200; none after
    CHECK(f.count("SELECT count(*) FROM callback_events WHERE status = 'delivered'") == 3);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'callback.delivered'") == 3);

    // Every attempt of an event sent the same bytes, signed, named by the header too.
    for (const auto& d : receiver.deliveries()) {
        CHECK(d.signature_ok);
        CHECK(d.header_event_id == d.event_id);
        CHECK(d.body.find("alice") == std::string::npos);
        CHECK(d.body.find("digest-") == std::string::npos);
    }
    const auto all = receiver.deliveries();
    for (const auto& d : all) {
        for (const auto& e : all) {
            if (d.event_id == e.event_id) {
                CHECK(d.body == e.body);
            }
        }
    }
    const json first = json::parse(all.back().body);
    CHECK(first["sender"] == "portal");
    CHECK(first.contains("workspaces"));
    // R1's events report the state each one reached.
    for (const auto& d : all) {
        const json b = json::parse(d.body);
        if (d.event_id == r1[0]) {
            CHECK(b["type"] == "request.dead");
            CHECK(b["state"] == "dead");
        } else if (d.event_id == r1[1]) {
            CHECK(b["type"] == "request.done");
            CHECK(b["request_id"] == "R1");
        } else {
            CHECK(b["type"] == "request.cancelled");
        }
    }
}

TEST_CASE("a callback fails for good after its retry window; --retry requeues it", "[callback]") {
    CallbackFixture f;
    f.submit("R1", "alice");
    f.set_state("R1", "cancelled");
    auto delivery = f.delivery("http://127.0.0.1:" + std::to_string(test::closed_port()) + "/",
                               /*retry_ms=*/60'000);
    store::CallbackOutbox outbox(f.db, f.clock);
    int attempts = 0;
    while (f.count("SELECT count(*) FROM callback_events WHERE status = 'pending'") == 1 &&
           attempts < 10) {
        attempts += delivery.deliver_due();
        if (auto due = delivery.next_due()) {
            f.clock.set(*due);
        }
    }
    // At 0, 10 s and 30 s; the next wait (40 s) would pass the 60 s window.
    CHECK(attempts == 3);
    CHECK(f.count("SELECT count(*) FROM callback_events WHERE status = 'failed'") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'callback.failed'") == 1);
    auto listed = outbox.undelivered();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].status == store::CallbackStatus::failed);
    CHECK(listed[0].last_error == "connection failed");

    CHECK(outbox.requeue("cli:test") == 1);
    CHECK(f.count("SELECT count(*) FROM audit_log WHERE event = 'callback.requeued' AND "
                  "json_extract(detail, '$.by') = 'cli:test'") == 1);
    CHECK(f.count("SELECT count(*) FROM callback_events WHERE status = 'pending' AND "
                  "retry_since = " +
                  std::to_string(f.clock.now_ms()) + "") == 1);
    test::LocalServer up([](const httplib::Request&, httplib::Response& res) { res.status = 204; });
    auto again = f.delivery(up.url() + "/cb");
    CHECK(again.deliver_due() == 1);
    CHECK(outbox.undelivered().empty());
}

TEST_CASE("backoff doubles up to its limit with equal jitter", "[callback]") {
    MaxRandom max;
    callback::RetryPolicy p;
    CHECK(callback::backoff_ms(p, 1, max) == 10'000);
    CHECK(callback::backoff_ms(p, 2, max) == 20'000);
    CHECK(callback::backoff_ms(p, 30, max) == 3'600'000);
    class MinRandom final : public Random {
    public:
        std::uint64_t uniform(std::uint64_t) override { return 0; }
    } min;
    CHECK(callback::backoff_ms(p, 1, min) == 5'000);
    CHECK(callback::backoff_ms(p, 30, min) == 1'800'000);
}

TEST_CASE("rotated secrets sign the callbacks from the next attempt on", "[callback]") {
    CallbackFixture f;
    f.submit("R1", "alice");
    f.submit("R2", "bob");
    f.set_state("R1", "done");
    f.set_state("R2", "done");
    const std::string rotated = "portal-callback-secret-rotated-9876";
    test::CallbackReceiver receiver(test::closed_port(), rotated); // the receiver rotated first
    receiver.start();
    auto delivery = f.delivery(receiver.url());
    CHECK(delivery.deliver_due() == 2);
    REQUIRE(receiver.deliveries().size() == 2);
    CHECK_FALSE(receiver.deliveries()[0].signature_ok); // still signed with the old secret
    CHECK(receiver.effects().empty());

    // SIGHUP re-read the sender's secret.
    delivery.set_targets({{"portal", receiver.url(), rotated, 72 * 3'600'000}});
    f.clock.advance(3'600'000);
    CHECK(delivery.deliver_due() == 2);
    REQUIRE(receiver.deliveries().size() == 4);
    CHECK(receiver.deliveries()[2].signature_ok);
    CHECK(receiver.effects().size() == 2);
}
