#!/usr/bin/env python3
"""Independent verifier of lethe audit exports, written from docs/audit-format.md alone.

Usage: verify_export.py FILE --key VERIFIER_KEY [--skip-signatures]

FILE is a JSON Lines export, or a CSV export with FILE.checkpoint.json beside it.
VERIFIER_KEY is the output of `lethe audit public-key` (NAME+KEYID+BASE64), or a file holding it.
Ed25519 signatures are checked with `openssl pkeyutl` (Python's standard library has no
Ed25519); --skip-signatures checks everything else and says so.

Prints "OK ..." and exits 0, or "FAIL seq N: ...", "FAIL line N: ..." or "FAIL: ..." and exits 1
(section 4.3 of the document: the first bad seq is named whenever the problem is an entry's).
"""

import base64
import csv
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

GENESIS = "0" * 64
DOMAIN_TAG = b"lethe.audit.v1"
ENTRY_FIELDS = ["seq", "at", "event", "request_ref", "subject_digest", "detail", "prev_hash", "hash"]
EXPORT_FORMAT = "lethe-audit-export/1"
SIG_PREFIX = "\u2014 "
SPKI_ED25519_PREFIX = bytes.fromhex("302a300506032b6570032100")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Failure(Exception):
    def __init__(self, what, seq=None, line=None):
        super().__init__(what)
        self.what, self.seq, self.line = what, seq, line

    def __str__(self):
        where = f" seq {self.seq}" if self.seq is not None else (
            f" line {self.line}" if self.line is not None else "")
        return f"FAIL{where}: {self.what}"


# --- section 2.1: the entry hash ---------------------------------------------------------------

def entry_hash(e):
    fields = [DOMAIN_TAG, str(e["seq"]).encode()] + [
        e[name].encode("utf-8") for name in ENTRY_FIELDS[1:7]]
    return hashlib.sha256(b"".join(struct.pack(">I", len(f)) + f for f in fields)).hexdigest()


# --- section 3: signed notes and checkpoints ---------------------------------------------------

def parse_verifier_key(text):
    text = text.strip()
    name, key_id, b64 = text.split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise ValueError("not an Ed25519 verifier key")
    public = raw[1:]
    if hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4].hex() != key_id:
        raise ValueError("key ID does not match the name and key")
    return {"name": name, "id": bytes.fromhex(key_id), "public": public}


def ed25519_verify(public, message, signature):
    """True when openssl accepts the signature."""
    with tempfile.TemporaryDirectory() as d:
        pem = os.path.join(d, "pub.pem")
        msg = os.path.join(d, "msg")
        sig = os.path.join(d, "sig")
        with open(pem, "w") as f:
            f.write("-----BEGIN PUBLIC KEY-----\n"
                    + base64.b64encode(SPKI_ED25519_PREFIX + public).decode()
                    + "\n-----END PUBLIC KEY-----\n")
        with open(msg, "wb") as f:
            f.write(message)
        with open(sig, "wb") as f:
            f.write(signature)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin",
                            "-in", msg, "-sigfile", sig], capture_output=True)
        return r.returncode == 0


def open_checkpoint(note, key, check_signatures, label):
    """The (origin, size, head hex) of a signed checkpoint note, or raises Failure."""
    if not note.endswith("\n") or "\n\n" not in note:
        raise Failure(f"{label}: not a signed note")
    split = note.rindex("\n\n")
    text, sig_lines = note[:split + 1], note[split + 2:].splitlines()
    signed_by_key = False
    for line in sig_lines:
        if not line.startswith(SIG_PREFIX) or " " not in line[len(SIG_PREFIX):]:
            raise Failure(f"{label}: malformed signature line")
        name, b64 = line[len(SIG_PREFIX):].split(" ", 1)
        raw = base64.b64decode(b64, validate=True)
        if name != key["name"] or raw[:4] != key["id"]:
            continue  # another key's signature: ignored, as signed notes require
        if check_signatures and (len(raw) != 68 or
                                 not ed25519_verify(key["public"], text.encode(), raw[4:])):
            raise Failure(f"{label}: signature does not verify")
        signed_by_key = True
    if not signed_by_key:
        raise Failure(f"{label}: not signed by the trusted key")
    lines = text.split("\n")
    if len(lines) < 4 or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Failure(f"{label}: not a checkpoint")
    head = base64.b64decode(lines[2], validate=True)
    if len(head) != 32:
        raise Failure(f"{label}: root hash is not 32 bytes")
    if lines[0] != key["name"]:
        raise Failure(f"{label}: origin is not the key's name")
    return lines[0], int(lines[1]), head.hex()


# --- section 4.3: verifying an export ----------------------------------------------------------

class Chain:
    """Step 1: the chain rules of section 2.2, the first prev_hash taken as given."""

    def __init__(self):
        self.count, self.first_seq, self.last_seq = 0, None, None
        self.first_prev, self.last_hash = None, None

    def add(self, e):
        seq = e["seq"]
        if self.count > 0 and seq != self.last_seq + 1:
            if seq > self.last_seq + 1:
                raise Failure("missing entries before this one", seq=self.last_seq + 1)
            raise Failure("out of order", seq=seq)
        if not HEX64.match(e["prev_hash"]) or not HEX64.match(e["hash"]):
            raise Failure("prev_hash or hash is not 64 lower-case hex digits", seq=seq)
        if self.count > 0 and e["prev_hash"] != self.last_hash:
            raise Failure(f"prev_hash does not match the hash of seq {seq - 1}", seq=seq)
        if entry_hash(e) != e["hash"]:
            raise Failure("hash does not match the entry's contents", seq=seq)
        if self.count == 0:
            self.first_seq, self.first_prev = seq, e["prev_hash"]
        self.count += 1
        self.last_seq, self.last_hash = seq, e["hash"]

    def finish(self):
        if self.count > 0 and self.first_seq == 1 and self.first_prev != GENESIS:
            raise Failure("prev_hash of the first entry is not the genesis hash", seq=1)


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate member")
    return dict(pairs)


def entry_from_object(obj, line):
    if set(obj) != set(ENTRY_FIELDS):
        raise Failure("an entry needs exactly the eight members", line=line)
    if type(obj["seq"]) is not int or obj["seq"] < 1:
        raise Failure("seq is not a positive integer", line=line)
    if not all(isinstance(obj[f], str) for f in ENTRY_FIELDS[1:]):
        raise Failure("a field is not a string", line=line)
    return obj


def read_jsonl(path, chain):
    trailer = None
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, 1):
            if trailer is not None:
                raise Failure("content after the checkpoint line", line=line_no)
            try:
                obj = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
            except (ValueError, UnicodeDecodeError) as exc:
                raise Failure(f"not an export line ({exc})", line=line_no)
            if not isinstance(obj, dict):
                raise Failure("not a JSON object", line=line_no)
            if "type" in obj:
                if obj["type"] != "checkpoint":
                    raise Failure("unknown line type", line=line_no)
                trailer = obj
                continue
            chain.add(entry_from_object(obj, line_no))
    return trailer


def read_csv(path, chain):
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        if next(rows, None) != ENTRY_FIELDS:
            raise Failure("not a lethe audit CSV header", line=1)
        for row in rows:
            if len(row) != 8 or not re.fullmatch(r"[1-9][0-9]*", row[0]):
                raise Failure("a row needs 8 fields and a positive seq", line=rows.line_num)
            e = dict(zip(ENTRY_FIELDS, row))
            e["seq"] = int(row[0])
            chain.add(e)
    sidecar = path + ".checkpoint.json"
    if not os.path.exists(sidecar):
        raise Failure(f"{sidecar}: missing: a CSV export is verified with its checkpoint file")
    with open(sidecar, encoding="utf-8") as f:
        return json.loads(f.read(), object_pairs_hook=no_duplicates)


def check_trailer(t, chain, key, check_signatures):
    """Steps 2 and 3."""
    if t.get("format") != EXPORT_FORMAT:
        raise Failure("unknown export format")
    start = open_checkpoint(t["start_note"], key, check_signatures, "start_note")
    end = open_checkpoint(t["end_note"], key, check_signatures, "end_note")
    head = open_checkpoint(t["head_note"], key, check_signatures, "head_note")
    if chain.count == 0:
        if start[1:] != end[1:]:
            raise Failure("the signed checkpoints cover entries but the export holds none",
                          seq=start[1] + 1)
    else:
        if chain.first_seq != start[1] + 1:
            raise Failure("the export does not begin where start_note says",
                          seq=min(chain.first_seq, start[1] + 1))
        if chain.first_prev != start[2]:
            raise Failure("prev_hash differs from start_note", seq=chain.first_seq)
        if end[1] > chain.last_seq:
            raise Failure("entries were removed from the end", seq=chain.last_seq + 1)
        if end[1] < chain.last_seq:
            raise Failure("entries were added after the signed end", seq=end[1] + 1)
        if end[2] != chain.last_hash:
            raise Failure("hash differs from end_note", seq=chain.last_seq)
    if head[1] < end[1] or (head[1] == end[1] and head[2] != end[2]):
        raise Failure("head_note does not extend end_note")
    if t["log_size"] != head[1] or t["log_head"] != head[2]:
        raise Failure("log_size/log_head differ from head_note")
    if (t["count"], t["first_seq"], t["last_seq"]) != (chain.count, chain.first_seq,
                                                        chain.last_seq):
        raise Failure("first_seq/last_seq/count differ from the entries")
    if t["origin"] != start[0]:
        raise Failure("origin differs from the signed checkpoints")


def verify(path, key, check_signatures):
    chain = Chain()
    with open(path, "rb") as f:
        is_jsonl = f.read(1) == b"{"
    trailer = read_jsonl(path, chain) if is_jsonl else read_csv(path, chain)
    chain.finish()
    if trailer is None:
        raise Failure("no checkpoint line at the end: the export is incomplete")
    try:
        check_trailer(trailer, chain, key, check_signatures)
    except (KeyError, TypeError) as exc:
        raise Failure(f"malformed checkpoint line ({exc})")
    return chain


def main(argv):
    args = argv[1:]
    skip = "--skip-signatures" in args
    args = [a for a in args if a != "--skip-signatures"]
    if len(args) != 3 or args[1] != "--key":
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path, key_arg = args[0], args[2]
    if os.path.exists(key_arg):
        with open(key_arg) as f:
            key_arg = f.read()
    key = parse_verifier_key(key_arg)
    try:
        chain = verify(path, key, not skip)
    except Failure as failure:
        print(failure)
        return 1
    span = f", seq {chain.first_seq} to {chain.last_seq}" if chain.count else ""
    note = " (signatures NOT checked: --skip-signatures)" if skip else ""
    print(f"OK {chain.count} entries{span}, signed by {key['name']}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
