// Command tlogcheck verifies lethe's audit evidence with the Go reference implementations of
// signed notes and transparency logs, golang.org/x/mod/sumdb/note and .../tlog, and nothing of
// lethe: checkpoint signatures, the Merkle root of an export's entries, inclusion proofs and
// consistency proofs (docs/audit-format.md). The e2e test [interop] runs it on logs written by
// the real lethe binary, genuine and tampered.
//
// Usage:
//
//	tlogcheck checkpoint VKEY NOTE_FILE        the note's signature; prints origin, size, root
//	tlogcheck tree VKEY EXPORT.jsonl           the tree of every entry has end_note's root
//	tlogcheck inclusion VKEY PROOF.json        `lethe audit inclusion SEQ --json`
//	tlogcheck consistency VKEY PROOF.json      `lethe audit consistency OLD NEW --json`
//	tlogcheck bundle VKEY BUNDLE.jsonl         `lethe audit proof`: statement and checkpoint
//	                                           signatures, each entry's hash from its contents
//	                                           and its inclusion proof
//
// Exit status 0 when everything verifies, 1 with "tlogcheck: FAIL: reason" otherwise, 2 on
// misuse. Build offline against Debian's golang-golang-x-mod-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o tlogcheck .
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const chainHeadPrefix = "chain-head "

// checkpoint is a C2SP tlog-checkpoint note body with lethe's chain-head extension line.
type checkpoint struct {
	origin    string
	tree      tlog.Tree
	chainHead string
}

// openCheckpoint checks the note's signature with vkey and parses its text.
func openCheckpoint(vkey, msg string) (checkpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return checkpoint{}, fmt.Errorf("verifier key: %v", err)
	}
	n, err := note.Open([]byte(msg), note.VerifierList(v))
	if err != nil {
		return checkpoint{}, fmt.Errorf("note: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		return checkpoint{}, errors.New("checkpoint: fewer than three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, errors.New("checkpoint: bad size line")
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint: root: %v", err)
	}
	cp := checkpoint{origin: lines[0], tree: tlog.Tree{N: size, Hash: root}}
	if cp.origin != v.Name() {
		return checkpoint{}, errors.New("checkpoint: origin is not the key's name")
	}
	for _, l := range lines[3:] {
		if strings.HasPrefix(l, chainHeadPrefix) {
			cp.chainHead = strings.TrimPrefix(l, chainHeadPrefix)
		}
	}
	if len(cp.chainHead) != 64 {
		return checkpoint{}, errors.New("checkpoint: no chain-head line (a legacy note has no root)")
	}
	return cp, nil
}

// recordHash is the leaf hash of an entry: SHA-256(0x00 || the entry hash's 32 bytes).
func recordHash(entryHashHex string) (tlog.Hash, error) {
	raw, err := hex.DecodeString(entryHashHex)
	if err != nil || len(raw) != 32 {
		return tlog.Hash{}, errors.New("entry hash is not 64 hex digits")
	}
	return tlog.RecordHash(raw), nil
}

func checkCheckpoint(vkey, file string) error {
	msg, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	cp, err := openCheckpoint(vkey, string(msg))
	if err != nil {
		return err
	}
	fmt.Printf("%s %d %s chain-head %s\n", cp.origin, cp.tree.N, cp.tree.Hash, cp.chainHead)
	return nil
}

// memoryHashes is a tlog.HashReader over hashes kept in memory, in stored-hash-index order.
type memoryHashes []tlog.Hash

func (m memoryHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// checkTree rebuilds the tree of an export that starts at seq 1 with tlog's own stored-hash
// layout and compares its root with the signed end_note.
func checkTree(vkey, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var stored memoryHashes
	var n int64
	var trailer map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return fmt.Errorf("line %d: %v", n+1, err)
		}
		if line["type"] == "checkpoint" {
			trailer = line
			break
		}
		if seq, _ := line["seq"].(float64); int64(seq) != n+1 {
			return fmt.Errorf("line %d: seq %v, expected %d (tree needs an export from seq 1)", n+1, line["seq"], n+1)
		}
		h, _ := line["hash"].(string)
		rh, err := recordHash(h)
		if err != nil {
			return fmt.Errorf("seq %d: %v", n+1, err)
		}
		more, err := tlog.StoredHashesForRecordHash(n, rh, stored)
		if err != nil {
			return err
		}
		stored = append(stored, more...)
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if trailer == nil {
		return errors.New("no checkpoint line")
	}
	endNote, _ := trailer["end_note"].(string)
	cp, err := openCheckpoint(vkey, endNote)
	if err != nil {
		return fmt.Errorf("end_note: %v", err)
	}
	if cp.tree.N != n {
		return fmt.Errorf("end_note covers %d entries, the export has %d", cp.tree.N, n)
	}
	if n == 0 {
		return nil // tlog has no root for the empty tree; RFC 6962's is SHA-256("")
	}
	root, err := tlog.TreeHash(n, stored)
	if err != nil {
		return err
	}
	if root != cp.tree.Hash {
		return fmt.Errorf("the tree of the %d entries has root %s, end_note signs %s", n, root, cp.tree.Hash)
	}
	fmt.Printf("tree of %d entries: root %s matches end_note\n", n, root)
	return nil
}

type inclusionJSON struct {
	Seq       int64            `json:"seq"`
	LeafIndex int64            `json:"leaf_index"`
	TreeSize  int64            `json:"tree_size"`
	EntryHash string           `json:"entry_hash"`
	Proof     tlog.RecordProof `json:"proof"`
	Note      string           `json:"note"`
}

func checkInclusion(vkey, file string) error {
	var p inclusionJSON
	if err := readJSON(file, &p); err != nil {
		return err
	}
	cp, err := openCheckpoint(vkey, p.Note)
	if err != nil {
		return err
	}
	if p.TreeSize != cp.tree.N || p.LeafIndex != p.Seq-1 {
		return errors.New("tree_size or leaf_index disagree with the note and seq")
	}
	leaf, err := recordHash(p.EntryHash)
	if err != nil {
		return err
	}
	if err := tlog.CheckRecord(p.Proof, cp.tree.N, cp.tree.Hash, p.LeafIndex, leaf); err != nil {
		return fmt.Errorf("seq %d: %v", p.Seq, err)
	}
	fmt.Printf("seq %d is in the tree of %d entries (%d-hash proof)\n", p.Seq, cp.tree.N, len(p.Proof))
	return nil
}

type consistencyJSON struct {
	OldSize int64          `json:"old_size"`
	NewSize int64          `json:"new_size"`
	Proof   tlog.TreeProof `json:"proof"`
	OldNote string         `json:"old_note"`
	NewNote string         `json:"new_note"`
}

func checkConsistency(vkey, file string) error {
	var p consistencyJSON
	if err := readJSON(file, &p); err != nil {
		return err
	}
	old, err := openCheckpoint(vkey, p.OldNote)
	if err != nil {
		return fmt.Errorf("old_note: %v", err)
	}
	cur, err := openCheckpoint(vkey, p.NewNote)
	if err != nil {
		return fmt.Errorf("new_note: %v", err)
	}
	if old.tree.N != p.OldSize || cur.tree.N != p.NewSize {
		return errors.New("old_size or new_size disagree with the notes")
	}
	if err := tlog.CheckTree(p.Proof, cur.tree.N, cur.tree.Hash, old.tree.N, old.tree.Hash); err != nil {
		return fmt.Errorf("%d -> %d: %v", old.tree.N, cur.tree.N, err)
	}
	fmt.Printf("the tree of %d entries extends the tree of %d (%d-hash proof)\n", cur.tree.N, old.tree.N, len(p.Proof))
	return nil
}

// entryHash is the entry hash of docs/audit-format.md 2.1: SHA-256 over the length-prefixed
// domain tag and fields, in hex.
func entryHash(e map[string]any) string {
	h := sha256.New()
	field := func(s string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("lethe.audit.v1")
	field(strconv.FormatInt(int64(e["seq"].(float64)), 10))
	for _, name := range []string{"at", "event", "request_ref", "subject_digest", "detail", "prev_hash"} {
		v, _ := e[name].(string)
		field(v)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkBundle checks a per-subject proof bundle (docs/audit-format.md 4.4) with Go's note and
// tlog: the statement's and the checkpoint's signatures, and every entry's inclusion proof.
func checkBundle(vkey, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) < 4 || len(lines)%2 != 0 {
		return errors.New("not a bundle: header, entry and inclusion pairs, checkpoint")
	}
	var header, last map[string]any
	if json.Unmarshal([]byte(lines[0]), &header) != nil || json.Unmarshal([]byte(lines[len(lines)-1]), &last) != nil {
		return errors.New("header or checkpoint line is not JSON")
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %v", err)
	}
	statement, _ := header["statement"].(string)
	st, err := note.Open([]byte(statement), note.VerifierList(v))
	if err != nil {
		return fmt.Errorf("statement: %v", err)
	}
	if !strings.HasPrefix(st.Text, "lethe-subject-proof/1\norigin "+v.Name()+"\n") {
		return errors.New("statement: not a lethe-subject-proof/1 statement of this origin")
	}
	cpNote, _ := last["note"].(string)
	cp, err := openCheckpoint(vkey, cpNote)
	if err != nil {
		return fmt.Errorf("checkpoint: %v", err)
	}
	for i := 1; i+1 < len(lines)-1; i += 2 {
		var e, inc map[string]any
		if json.Unmarshal([]byte(lines[i]), &e) != nil || json.Unmarshal([]byte(lines[i+1]), &inc) != nil {
			return fmt.Errorf("line %d: not JSON", i+1)
		}
		seq, _ := e["seq"].(float64)
		h, _ := e["hash"].(string)
		if entryHash(e) != h {
			return fmt.Errorf("seq %d: hash does not match the entry's contents", int64(seq))
		}
		if !strings.Contains(st.Text, fmt.Sprintf("\nentry %d %s\n", int64(seq), h)) {
			return fmt.Errorf("seq %d: not an entry of the statement", int64(seq))
		}
		leaf, err := recordHash(h)
		if err != nil {
			return err
		}
		var proof tlog.RecordProof
		words, _ := inc["proof"].(string)
		for _, w := range strings.Fields(words) {
			raw, err := hex.DecodeString(w)
			if err != nil || len(raw) != 32 {
				return fmt.Errorf("seq %d: a proof hash is not 64 hex digits", int64(seq))
			}
			var x tlog.Hash
			copy(x[:], raw)
			proof = append(proof, x)
		}
		if s2, _ := inc["seq"].(float64); s2 != seq {
			return fmt.Errorf("line %d: the inclusion line is not seq %d's", i+2, int64(seq))
		}
		if err := tlog.CheckRecord(proof, cp.tree.N, cp.tree.Hash, int64(seq)-1, leaf); err != nil {
			return fmt.Errorf("seq %d: %v", int64(seq), err)
		}
	}
	fmt.Printf("bundle: %d entries in the tree of %d entries\n", (len(lines)-2)/2, cp.tree.N)
	return nil
}

func readJSON(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	return nil
}

func main() {
	checks := map[string]func(string, string) error{
		"checkpoint":  checkCheckpoint,
		"tree":        checkTree,
		"inclusion":   checkInclusion,
		"consistency": checkConsistency,
		"bundle":      checkBundle,
	}
	if len(os.Args) != 4 || checks[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: tlogcheck checkpoint|tree|inclusion|consistency|bundle VKEY FILE")
		os.Exit(2)
	}
	if err := checks[os.Args[1]](os.Args[2], os.Args[3]); err != nil {
		fmt.Println("tlogcheck: FAIL:", err)
		os.Exit(1)
	}
}
