#!/usr/bin/env python3
"""Writes a deterministic CSV of erasure requests for bench/import.sh.

Columns: request_id,identifier,id_type,received_at (the import format of issue 2). The mix
resembles a ticketing export: sequential ticket numbers whose received_at follows ticket order
over 2024 (with some jitter, as tickets are not filed in exact order), mostly e-mail addresses,
some customer ids and cio_ ids, a few rows with id_type left empty (inferred by lethe), a few
quoted fields, and about 1% of rows naming a subject that an earlier row already named (a person
who asked twice), which lethe links to the first request. Every row is valid; the same seed
always gives the same file.

Usage: gen_requests.py ROWS OUT.csv [--seed N]
"""

import argparse
import random
import sys
import time

FIRST = ["anna", "ben", "carla", "dev", "elif", "femi", "greta", "hiro", "ines", "jonas",
         "kofi", "lena", "marta", "nils", "olga", "pavel", "quinn", "rosa", "sven", "tara",
         "ugo", "vera", "wen", "ximena", "yusuf", "zoe"]
LAST = ["smith", "muller", "garcia", "rossi", "kowalski", "nguyen", "okafor", "silva",
        "johansson", "dubois", "tanaka", "novak", "haddad", "oconnor", "schmidt", "ferreira"]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "web.de", "proton.me", "icloud.com",
           "example-shop.io", "mail.example.org", "firma.de", "correo.es"]

DUPLICATE_RATE = 0.01
UNTYPED_RATE = 0.05
QUOTED_RATE = 0.02


def identifier(rng, n):
    """A realistic identifier for row n and its id_type."""
    kind = rng.random()
    if kind < 0.80:
        sep = rng.choice([".", "_", "-", ""])
        local = f"{rng.choice(FIRST)}{sep}{rng.choice(LAST)}{n}"
        if rng.random() < 0.1:
            local += "+news"
        return f"{local}@{rng.choice(DOMAINS)}", "email"
    if kind < 0.95:
        return f"cust-{n:08d}-{rng.randrange(16**6):06x}", "id"
    return f"cio_{rng.randrange(16**12):012x}{n:x}", "cio_id"


YEAR_START = 1704067200  # 2024-01-01T00:00:00Z
YEAR_SECONDS = 366 * 86400
JITTER_SECONDS = 86400


def received_at(rng, n, rows):
    """The time row n of `rows` was received, in one of the ISO 8601 forms ticket systems use."""
    t = YEAR_START + (n * (YEAR_SECONDS - JITTER_SECONDS)) // rows + rng.randrange(JITTER_SECONDS)
    tm = time.gmtime(t)
    date = time.strftime("%Y-%m-%d", tm)
    form = rng.random()
    if form < 0.7:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", tm)
    if form < 0.9:
        return time.strftime("%Y-%m-%dT%H:%M:%S", tm) + f".{rng.randrange(1000):03d}Z"
    return date


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20240501)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    recent = []  # identifiers that a later row may name again
    duplicates = 0
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        f.write("request_id,identifier,id_type,received_at\n")
        for n in range(1, args.rows + 1):
            if recent and rng.random() < DUPLICATE_RATE:
                ident, typ = rng.choice(recent)
                duplicates += 1
            else:
                ident, typ = identifier(rng, n)
                if len(recent) < 10_000:
                    recent.append((ident, typ))
                else:
                    recent[rng.randrange(len(recent))] = (ident, typ)
            if rng.random() < UNTYPED_RATE:
                typ = ""
            rid = f"TCK-{n:09d}"
            if rng.random() < QUOTED_RATE:
                rid = f'"{rid}"'
                ident = f'"{ident}"'
            f.write(f"{rid},{ident},{typ},{received_at(rng, n, args.rows)}\n")
    print(f"{args.out}: {args.rows} rows, {duplicates} naming an earlier subject",
          file=sys.stderr)


if __name__ == "__main__":
    main()
