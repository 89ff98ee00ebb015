#!/usr/bin/env python3
"""Independent verifier of lethe audit exports, written from docs/audit-format.md alone.

Usage: verify_export.py FILE --key VERIFIER_KEY [--skip-signatures]

FILE is a JSON Lines export, or a CSV export with FILE.checkpoint.json beside it (format 3, with
its signed trailer_note; formats 2 and 1 are still read).
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
EXPORT_FORMAT = "lethe-audit-export/3"
EXPORT_FORMAT_V2 = "lethe-audit-export/2"
EXPORT_FORMAT_V1 = "lethe-audit-export/1"
CHAIN_HEAD_PREFIX = "chain-head "
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


def open_note(note, key, check_signatures, label):
    """The text of a signed note with a valid signature by the trusted key, or raises Failure."""
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
    return text


def trailer_statement(t):
    """Section 4.1, "The signed trailer": the text trailer_note signs."""
    def value(v):
        return "null" if v is None else str(v)
    def digest(note):
        return hashlib.sha256(note.encode()).hexdigest()
    members = [("origin", t["origin"]), ("first_seq", value(t["first_seq"])),
               ("last_seq", value(t["last_seq"])), ("count", value(t["count"])),
               ("since", value(t["since"])), ("until", value(t["until"])),
               ("log_size", value(t["log_size"])), ("log_head", t["log_head"]),
               ("exported_at", t["exported_at"]), ("start_note", digest(t["start_note"])),
               ("end_note", digest(t["end_note"])), ("head_note", digest(t["head_note"])),
               ("start_tree", t["start_tree"]), ("head_proof", t["head_proof"])]
    return EXPORT_FORMAT + "\n" + "".join(f"{n} {v}\n" for n, v in members)


def open_checkpoint(note, key, check_signatures, label):
    """The (origin, size, head hex, root hex) of a signed checkpoint note, or raises Failure.

    root is None for a note of lethe before the Merkle tree (no chain-head line: the third line
    is the chain head)."""
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
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise Failure(f"{label}: root hash is not 32 bytes")
    if lines[0] != key["name"]:
        raise Failure(f"{label}: origin is not the key's name")
    heads = [l[len(CHAIN_HEAD_PREFIX):] for l in lines[3:-1] if l.startswith(CHAIN_HEAD_PREFIX)]
    if len(heads) > 1 or (heads and not HEX64.match(heads[0])):
        raise Failure(f"{label}: malformed chain-head line")
    if not heads:
        return lines[0], int(lines[1]), root.hex(), None
    return lines[0], int(lines[1]), heads[0], root.hex()


# --- section 3.1: the Merkle tree (RFC 6962) ----------------------------------------------------

def leaf_hash(entry_hash_hex):
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


class Range:
    """Leaves [begin, end) as their largest aligned complete subtrees: (level, index, hash)."""

    def __init__(self, begin):
        self.begin, self.end, self.nodes = begin, begin, []

    def push_node(self, node):
        self.nodes.append(node)
        while len(self.nodes) >= 2:
            (ll, li, lh), (rl, ri, rh) = self.nodes[-2], self.nodes[-1]
            if ll != rl or li % 2 or ri != li + 1:
                break
            self.nodes[-2:] = [(ll + 1, li // 2, node_hash(lh, rh))]

    def push(self, leaf):
        self.push_node((0, self.end, leaf))
        self.end += 1

    def root(self):
        if not self.nodes:
            return hashlib.sha256(b"").digest()
        r = self.nodes[-1][2]
        for _, _, h in reversed(self.nodes[:-1]):
            r = node_hash(h, r)
        return r


def frontier(size, hashes):
    """The Range [0, size) from the hashes of its subtrees, largest first, or None."""
    levels = [l for l in range(62, -1, -1) if size >> l & 1]
    if len(levels) != len(hashes):
        return None
    r = Range(0)
    r.end = size
    r.nodes = [(l, (size >> l) - 1, h) for l, h in zip(levels, hashes)]
    return r


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    """RFC 9162 section 2.1.4.2."""
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof or old_size > new_size:
        return False
    if old_size & (old_size - 1) == 0:
        proof = [old_root] + proof
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


def hex_list(text, label):
    parts = text.split(" ") if text else []
    if not all(HEX64.match(p) for p in parts):
        raise Failure(f"{label} is not a list of 64-hex-digit hashes")
    return [bytes.fromhex(p) for p in parts]


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
            self.tree = Range(seq - 1)
        self.tree.push(leaf_hash(e["hash"]))
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
    if t.get("format") not in (EXPORT_FORMAT, EXPORT_FORMAT_V2, EXPORT_FORMAT_V1):
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
    if head[1] < end[1] or (head[1] == end[1] and head[2:] != end[2:]):
        raise Failure("head_note does not extend end_note")
    if t["log_size"] != head[1] or t["log_head"] != head[2]:
        raise Failure("log_size/log_head differ from head_note")
    if (t["count"], t["first_seq"], t["last_seq"]) != (chain.count, chain.first_seq,
                                                        chain.last_seq):
        raise Failure("first_seq/last_seq/count differ from the entries")
    if t["origin"] != start[0]:
        raise Failure("origin differs from the signed checkpoints")
    if t["format"] != EXPORT_FORMAT_V1:
        check_tree(t, chain, start, end, head)
    if t["format"] == EXPORT_FORMAT:
        signed = open_note(t["trailer_note"], key, check_signatures, "trailer_note")
        if signed != trailer_statement(t):
            raise Failure("trailer_note: the signed trailer differs from the trailer's members")


def check_tree(t, chain, start, end, head):
    """Step 3, format 2: the Merkle tree links the three notes."""
    if None in (start[3], end[3], head[3]):
        raise Failure("a checkpoint of this export format has no Merkle root")
    if chain.count == 0:
        return
    before = frontier(start[1], hex_list(t["start_tree"], "start_tree"))
    if before is None or before.root().hex() != start[3]:
        raise Failure("start_tree does not have start_note's Merkle root", seq=chain.last_seq)
    for node in chain.tree.nodes:
        before.push_node(node)
    if before.root().hex() != end[3]:
        raise Failure("the Merkle root of the entries differs from end_note's", seq=chain.last_seq)
    if not verify_consistency(end[1], head[1], bytes.fromhex(end[3]), bytes.fromhex(head[3]),
                              hex_list(t["head_proof"], "head_proof")):
        raise Failure("head_proof does not prove that head_note extends end_note",
                      seq=chain.last_seq)


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
