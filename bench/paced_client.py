#!/usr/bin/env python3
"""Paced intake client for bench/contention.sh: signed POSTs at a steady rate until told to stop.

Sends RATE signed POSTs per second (one keep-alive connection, each request on its schedule,
never back to back) to `lethe serve` until STOP_FILE exists, and prints one JSON object: count,
statuses, and latency p50/p99/max in ms. Latency is measured from each request's scheduled time,
so a request delayed behind a slow one counts its wait too.

usage: paced_client.py URL SECRET_FILE RATE STOP_FILE
"""
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.parse


def main():
    url, secret_file, rate, stop_file = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    secret = open(secret_file, "rb").read().strip()
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    latencies, statuses = [], {}
    start = time.monotonic()
    n = 0
    while not os.path.exists(stop_file):
        scheduled = start + n / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps({"request_id": f"PACED-{n}",
                           "identifier": f"paced{n}@example.com"}).encode()
        ts = str(int(time.time()))
        sig = hmac.new(secret, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        try:
            conn.request("POST", "/v1/erasure-requests", body,
                         {"Content-Type": "application/json", "X-Lethe-Timestamp": ts,
                          "X-Lethe-Signature": sig})
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            status = 0
        latencies.append((time.monotonic() - scheduled) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        n += 1
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else None

    print(json.dumps({"count": n, "statuses": statuses, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                      "max_ms": round(latencies[-1], 1) if latencies else None}))


if __name__ == "__main__":
    main()
