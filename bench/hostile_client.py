#!/usr/bin/env python3
"""Hostile clients for bench/hostile.sh (issue 16, points 4 and 5), against `lethe serve` on
127.0.0.1. Prints one JSON object with the figures of the chosen part.

usage: hostile_client.py URL SECRET_FILE SERVER_PID metrics [SCRAPES]
       hostile_client.py URL SECRET_FILE SERVER_PID bombs
       hostile_client.py URL SECRET_FILE SERVER_PID slowloris [CONNECTIONS]   (ends with SIGTERM)

metrics:   SCRAPES GET /metrics on one keep-alive connection (first, median, p99, max in ms),
           while another thread sends GET /healthz every 10 ms (median, p99, max).
bombs:     a 1 GiB chunked body, 256 MiB header lines (a header, the URL, a header name) and
           compression bombs (1 GiB of zeros as gzip, the same bytes labelled br): bytes the
           server took before closing, its answer, and its resident memory (VmRSS) and peak
           (VmHWM) before and after.
slowloris: CONNECTIONS connections that trickle their headers (one byte every 2 s, below the
           idle time-out), plus 5 that trickle a body; then 200 GET /healthz (one new connection
           each) and 20 signed POSTs; then SIGTERM to the server, timing its exit with all of
           them still connected.
"""
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
import zlib


def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return round(values[k], 2)


def memory(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])  # KiB
    return out


def signed_headers(secret, body):
    ts = str(int(time.time()))
    sig = hmac.new(secret, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Lethe-Timestamp": ts, "X-Lethe-Signature": sig, "Content-Type": "application/json"}


def raw_signed_head(secret, body, extra):
    h = signed_headers(secret, body)
    lines = ["POST /v1/erasure-requests HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in h.items()] + extra
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def stream_until_closed(s, first, piece, limit):
    """Sends `first`, then `piece` until `limit` bytes or the server closes; returns bytes sent."""
    sent = 0
    try:
        s.sendall(first)
        while sent < limit:
            s.sendall(piece)
            sent += len(piece)
    except OSError:
        pass
    return sent


def answer_of(s):
    s.settimeout(2)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    return line if line.startswith("HTTP/") else "(connection closed, no answer)"


def get_latency(host, port, path):
    start = time.perf_counter()
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    c.close()
    return (time.perf_counter() - start) * 1000, r.status


def part_metrics(host, port, scrapes):
    stop = threading.Event()
    health = []

    def prober():
        while not stop.is_set():
            ms, status = get_latency(host, port, "/healthz")
            health.append(ms if status == 200 else float("inf"))
            time.sleep(0.01)

    t = threading.Thread(target=prober)
    t.start()
    c = http.client.HTTPConnection(host, port, timeout=60)
    times = []
    size = 0
    for _ in range(scrapes):
        start = time.perf_counter()
        c.request("GET", "/metrics")
        r = c.getresponse()
        body = r.read()
        times.append((time.perf_counter() - start) * 1000)
        size = len(body)
        if r.status != 200:
            raise SystemExit(f"/metrics answered {r.status}")
    stop.set()
    t.join()
    pending = [l for l in body.decode().splitlines() if l.startswith('lethe_requests{state="pending"}')]
    return {"scrapes": scrapes, "bytes": size, "pending_line": pending[0] if pending else None,
            "first_ms": round(times[0], 2), "median_ms": percentile(times[1:], 50),
            "p99_ms": percentile(times[1:], 99), "max_after_first_ms": round(max(times[1:]), 2),
            "healthz_during": {"n": len(health), "median_ms": percentile(health, 50),
                               "p99_ms": percentile(health, 99),
                               "max_ms": round(max(health), 2)}}


def part_bombs(host, port, secret, pid):
    out = {"before": memory(pid)}
    gib = 1 << 30
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
    s = connect(host, port)
    start = time.perf_counter()
    sent = stream_until_closed(s, raw_signed_head(secret, b"x", ["Transfer-Encoding: chunked"]),
                               chunk, gib)
    out["chunked_1GiB"] = {"sent_bytes": sent, "seconds": round(time.perf_counter() - start, 3),
                           "answer": answer_of(s), "after": memory(pid)}
    s.close()
    for name, first in [("header_256MiB", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bomb: "),
                        ("url_256MiB", b"GET /healthz?"),
                        ("header_name_256MiB", b"GET /healthz HTTP/1.1\r\nX-")]:
        s = connect(host, port)
        sent = stream_until_closed(s, first, b"a" * 0x10000, 256 << 20)
        out[name] = {"sent_bytes": sent, "answer": answer_of(s), "after": memory(pid)}
        s.close()
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    zeros = b"\0" * (1 << 20)
    compressed = b"".join(bomb.compress(zeros) for _ in range(1024)) + bomb.flush()
    for encoding in ("gzip", "br"):
        s = connect(host, port)
        head = raw_signed_head(secret, compressed, [f"Content-Encoding: {encoding}",
                                                   f"Content-Length: {len(compressed)}"])
        try:
            s.sendall(head + compressed)
        except OSError:
            pass
        out[f"compressed_{encoding}_1GiB_in_{len(compressed)}_bytes"] = {
            "answer": answer_of(s), "after": memory(pid)}
        s.close()
    end = memory(pid)
    out["rss_growth_kib"] = end["VmRSS"] - out["before"]["VmRSS"]
    out["peak_growth_kib"] = end["VmHWM"] - out["before"]["VmHWM"]
    ms, status = get_latency(host, port, "/healthz")
    out["healthz_after"] = {"status": status, "ms": round(ms, 2)}
    return out


def part_slowloris(host, port, secret, pid, count):
    socks = []
    for i in range(count):
        s = connect(host, port)
        s.sendall(b"POST /v1/erasure-requests HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        socks.append(s)
    for i in range(5):
        s = connect(host, port)
        body = json.dumps({"request_id": f"SLOWBODY-{i}", "identifier": "x@example.com"}).encode()
        s.sendall(raw_signed_head(secret, body, [f"Content-Length: {len(body)}"]) + body[:5])
        socks.append(s)
    stop = threading.Event()

    def trickle():
        while not stop.wait(2):
            for s in socks:
                try:
                    s.send(b"a")
                except OSError:
                    pass

    t = threading.Thread(target=trickle)
    t.start()
    time.sleep(0.5)
    health = []
    for _ in range(200):
        try:
            ms, status = get_latency(host, port, "/healthz")
        except OSError:
            ms, status = float("inf"), 0
        health.append(ms if status == 200 else float("inf"))
    posts = {}
    for i in range(20):
        body = json.dumps({"request_id": f"LORIS-{i}-{time.time_ns()}",
                           "identifier": f"loris{i}@example.com"}).encode()
        c = http.client.HTTPConnection(host, port, timeout=10)
        try:
            c.request("POST", "/v1/erasure-requests", body, signed_headers(secret, body))
            status = c.getresponse().status
        except OSError:
            status = 0
        posts[status] = posts.get(status, 0) + 1
        c.close()
    # Every hostile connection is still open (a failed send would show as a closed socket).
    still_open = 0
    for s in socks:
        try:
            s.send(b"a")
            still_open += 1
        except OSError:
            pass
    start = time.perf_counter()
    os.kill(pid, signal.SIGTERM)
    while True:
        try:
            with open(f"/proc/{pid}/status") as f:
                if any(l.startswith("State:") and "Z" in l for l in f):
                    break
        except FileNotFoundError:
            break
        if time.perf_counter() - start > 120:
            break
        time.sleep(0.005)
    exit_s = time.perf_counter() - start
    stop.set()
    t.join()
    return {"hostile_connections": len(socks), "still_open_at_sigterm": still_open,
            "healthz": {"n": len(health), "median_ms": percentile(health, 50),
                        "p99_ms": percentile(health, 99), "max_ms": round(max(health), 2)},
            "signed_posts": posts, "sigterm_exit_seconds": round(exit_s, 3)}


def main():
    url, secret_file, pid, part = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    with open(secret_file, "rb") as f:
        secret = f.read().split(b"\n")[0]
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname, parts.port
    if part == "metrics":
        result = part_metrics(host, port, int(sys.argv[5]) if len(sys.argv) > 5 else 50)
    elif part == "bombs":
        result = part_bombs(host, port, secret, pid)
    elif part == "slowloris":
        result = part_slowloris(host, port, secret, pid,
                                int(sys.argv[5]) if len(sys.argv) > 5 else 100)
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
