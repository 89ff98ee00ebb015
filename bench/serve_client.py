#!/usr/bin/env python3
"""Load client for bench/serve.sh: sustained signed POSTs to `lethe serve` on loopback.

Each thread keeps one HTTP/1.1 keep-alive connection and sends requests back to back for the
given duration, signing each body with HMAC-SHA256 (Python's hmac, independent of lethe's code).
Prints one JSON object with the figures; writes the request_id of every 201 answer to ACK_FILE.

usage: serve_client.py URL SECRET_FILE SECONDS THREADS ACK_FILE
"""
import hashlib
import hmac
import http.client
import json
import sys
import threading
import time
import urllib.parse


def worker(index, url, secret, deadline, results):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    latencies, acked, statuses = [], [], {}
    n = 0
    while time.monotonic() < deadline:
        request_id = f"BENCH-{index}-{n}"
        body = json.dumps({"request_id": request_id,
                           "identifier": f"bench{index}x{n}@example.com"}).encode()
        ts = str(int(time.time()))
        sig = hmac.new(secret, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Lethe-Timestamp": ts,
                   "X-Lethe-Signature": sig}
        start = time.perf_counter()
        try:
            conn.request("POST", "/v1/erasure-requests", body, headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            status = 0
        latencies.append(time.perf_counter() - start)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 201:
            acked.append(request_id)
        n += 1
    conn.close()
    results[index] = (latencies, acked, statuses)


def main():
    url, secret_file, seconds, threads, ack_file = sys.argv[1:6]
    with open(secret_file, "rb") as f:
        secret = f.read().splitlines()[0]
    seconds, threads = float(seconds), int(threads)
    results = [None] * threads
    started = time.monotonic()
    deadline = started + seconds
    pool = [threading.Thread(target=worker, args=(i, url, secret, deadline, results))
            for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - started
    latencies = sorted(x for r in results for x in r[0])
    acked = [x for r in results for x in r[1]]
    statuses = {}
    for r in results:
        for k, v in r[2].items():
            statuses[str(k)] = statuses.get(str(k), 0) + v
    with open(ack_file, "w") as f:
        f.write("\n".join(acked) + ("\n" if acked else ""))

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0

    print(json.dumps({"requests": len(latencies), "seconds": round(elapsed, 2),
                      "requests_per_second": round(len(latencies) / elapsed, 1),
                      "p50_ms": round(pct(0.50), 2), "p99_ms": round(pct(0.99), 2),
                      "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0,
                      "threads": threads, "statuses": statuses, "acknowledged": len(acked)}))


if __name__ == "__main__":
    main()
