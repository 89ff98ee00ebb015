// Load client for bench/serve.sh (issue 18): signed requests to `lethe serve` on loopback from
// N threads, one HTTP/1.1 keep-alive connection each, as fast as the server answers. C++ rather
// than Python so that the client is not what is measured (two cores are shared).
//
// usage: serve_load URL SECRET_FILE SECONDS CONNECTIONS MODE ACK_FILE [IDS_FILE]
//   MODE post:   POST /v1/erasure-requests, unique request ids; writes every 201's id to ACK_FILE
//   MODE status: GET /v1/erasure-requests/ID for the request ids in IDS_FILE (one per line),
//                each thread walking its own share, every query signed afresh. lethe refuses a
//                query repeated within the same second (a replay), so a thread that comes round
//                to the same id within one second waits for the next.
// Prints one JSON object: requests, requests_per_second, p50_ms, p99_ms, max_ms, statuses.
//
// Build: g++ -O2 -std=c++20 bench/serve_load.cpp -o serve_load $(pkg-config --cflags --libs
//        cpp-httplib) -lcrypto -lpthread (bench/serve.sh does it)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <httplib.h>
#include <map>
#include <mutex>
#include <openssl/hmac.h>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string hmac_hex(const std::string& key, const std::string& message) {
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[mac[i] >> 4];
        out += hex[mac[i] & 15];
    }
    return out;
}

struct Result {
    std::vector<double> latencies_ms;
    std::vector<std::string> acked;
    std::map<int, long> statuses;
};

} // namespace

int main(int argc, char** argv) {
    if (argc < 7) {
        std::fprintf(stderr, "usage: serve_load URL SECRET_FILE SECONDS CONNECTIONS MODE "
                             "ACK_FILE [IDS_FILE]\n");
        return 2;
    }
    const std::string url = argv[1];
    std::string secret;
    std::getline(std::ifstream(argv[2]), secret);
    const double seconds = std::stod(argv[3]);
    const int connections = std::stoi(argv[4]);
    const std::string mode = argv[5];
    const std::string ack_file = argv[6];
    std::vector<std::string> ids;
    if (argc > 7) {
        std::ifstream in(argv[7]);
        for (std::string line; std::getline(in, line);) {
            if (!line.empty()) {
                ids.push_back(line);
            }
        }
    }
    if (mode == "status" && ids.size() < static_cast<std::size_t>(connections)) {
        std::fprintf(stderr, "serve_load: status needs at least one id per connection\n");
        return 2;
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(long(seconds * 1000));
    std::vector<Result> results(connections);
    std::vector<std::thread> threads;
    const auto started = std::chrono::steady_clock::now();
    for (int t = 0; t < connections; ++t) {
        threads.emplace_back([&, t] {
            httplib::Client client(url);
            client.set_keep_alive(true);
            client.set_tcp_nodelay(true); // headers and body are two writes: no Nagle delay
            client.set_read_timeout(30, 0);
            Result& r = results[t];
            std::vector<std::string> share; // this thread's ids
            for (std::size_t i = t; i < ids.size(); i += connections) {
                share.push_back("/v1/erasure-requests/" + ids[i]);
            }
            std::time_t round_started = 0; // the second this thread began its share anew
            for (long n = 0; std::chrono::steady_clock::now() < deadline; ++n) {
                std::string now = std::to_string(std::time(nullptr));
                if (mode == "status") {
                    // A round is signed with the second it began in, so no query repeats within
                    // one second even when the round crosses into the next.
                    if (n % long(share.size()) == 0) {
                        while (std::time(nullptr) == round_started) {
                            std::this_thread::sleep_for(std::chrono::milliseconds(5));
                        }
                        round_started = std::time(nullptr);
                    }
                    now = std::to_string(round_started);
                }
                const auto start = std::chrono::steady_clock::now();
                std::string id;
                httplib::Result res = [&] {
                    if (mode == "post") {
                        id = "BENCH-" + std::to_string(t) + "-" + std::to_string(n);
                        const std::string body = R"({"request_id":")" + id +
                                                 R"(","identifier":"bench)" + std::to_string(t) +
                                                 "x" + std::to_string(n) + R"(@example.com"})";
                        return client.Post(
                            "/v1/erasure-requests",
                            {{"X-Lethe-Timestamp", now},
                             {"X-Lethe-Signature", hmac_hex(secret, "v0:" + now + ":" + body)}},
                            body, "application/json");
                    }
                    const std::string& path = share[n % share.size()];
                    return client.Get(path, {{"X-Lethe-Timestamp", now},
                                             {"X-Lethe-Signature",
                                              hmac_hex(secret, "v0:" + now + ":GET " + path)}});
                }();
                const double ms = std::chrono::duration<double, std::milli>(
                                      std::chrono::steady_clock::now() - start)
                                      .count();
                const int status = res ? res->status : 0;
                r.latencies_ms.push_back(ms);
                ++r.statuses[status];
                if (status == 201) {
                    r.acked.push_back(id);
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::vector<double> all;
    std::map<int, long> statuses;
    std::ofstream acks(ack_file);
    for (const auto& r : results) {
        all.insert(all.end(), r.latencies_ms.begin(), r.latencies_ms.end());
        for (const auto& [k, v] : r.statuses) {
            statuses[k] += v;
        }
        for (const auto& id : r.acked) {
            acks << id << "\n";
        }
    }
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) {
        return all.empty() ? 0.0 : all[std::min(all.size() - 1, std::size_t(p * all.size()))];
    };
    std::string st;
    for (const auto& [k, v] : statuses) {
        st += (st.empty() ? "" : ", ") + std::string("\"") + std::to_string(k) +
              "\": " + std::to_string(v);
    }
    std::printf("{\"requests\": %zu, \"seconds\": %.2f, \"requests_per_second\": %.1f, "
                "\"p50_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f, \"connections\": %d, "
                "\"statuses\": {%s}}\n",
                all.size(), elapsed, all.size() / elapsed, pct(0.5), pct(0.99),
                all.empty() ? 0.0 : all.back(), connections, st.c_str());
    return 0;
}
