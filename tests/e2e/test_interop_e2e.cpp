// Go interop: lethe's checkpoints, Merkle tree, inclusion and consistency proofs checked by
// tests/interop/tlogcheck, which uses only Go's golang.org/x/mod/sumdb/note and .../tlog (the
// reference implementations), on logs written by the real lethe binary. CI installs Go
// (scripts/setup.sh: golang-go, golang-golang-x-mod-dev); without it this test fails.
#include "cli_fixture.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <unistd.h>

using namespace lethe::test;

namespace {

// `name` as the shell would find it on PATH (the harness execs without a PATH search).
std::string on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = std::string(path != nullptr ? path : "") + ":/usr/bin:/usr/lib/go/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
        auto end = dirs.find(':', start);
        end = end == std::string::npos ? dirs.size() : end;
        const auto candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
        if (!candidate.parent_path().empty() && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
        start = end + 1;
    }
    return "";
}

// Builds tlogcheck offline against Debian's Go sources; fails the test when Go is missing.
std::string build_tlogcheck(const TempDir& dir) {
    const std::string go = on_path("go");
    INFO("the Go interop check needs `go` and golang.org/x/mod (Debian: golang-go and "
         "golang-golang-x-mod-dev; scripts/setup.sh installs them)");
    REQUIRE_FALSE(go.empty());
    const auto out = (dir / "tlogcheck").string();
    ProcessOptions opts;
    opts.cwd = source_root() / "tests" / "interop" / "tlogcheck";
    opts.env = {{"GOPATH", "/usr/share/gocode"},
                {"GO111MODULE", "off"},
                {"GOCACHE", (dir / "gocache").string()},
                {"HOME", dir.path().string()}};
    auto r = run({go, "build", "-o", out, "."}, opts, std::chrono::minutes(5));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return out;
}

struct Interop {
    CliFixture f;
    std::string tlogcheck = build_tlogcheck(f.dir);
    std::string key;

    Interop() {
        f.init();
        key = trim(ok({"audit", "public-key"}).out);
    }
    ProcessResult ok(std::vector<std::string> args) const {
        auto r = f.lethe(std::move(args));
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        return r;
    }
    void enqueue(int from, int to) const {
        for (int i = from; i < to; ++i) {
            ok({"enqueue", "person" + std::to_string(i) + "@example.com", "--request-id",
                "REQ-" + std::to_string(i)});
        }
    }
    std::string path(const std::string& name) const { return (f.dir / name).string(); }
    // Keeps the current latest.note under `name`.
    void keep_checkpoint(const std::string& name) const {
        ok({"audit", "checkpoint"});
        write_text(f.dir / name, read_text(f.dir / "state" / "checkpoints" / "latest.note"));
    }
    ProcessResult go(const std::string& check, const std::string& file) const {
        return run({tlogcheck, check, key, file});
    }
    static std::string trim(std::string s) {
        while (!s.empty() && s.back() == '\n') {
            s.pop_back();
        }
        return s;
    }
};

std::string flip_in(std::string text, const std::string& after) {
    auto pos = text.find(after);
    REQUIRE(pos != std::string::npos);
    pos += after.size();
    text[pos] = text[pos] == 'A' ? 'B' : 'A';
    return text;
}

} // namespace

TEST_CASE("Go's sumdb note and tlog verify lethe's checkpoints and proofs", "[e2e][interop]") {
    Interop t;
    t.enqueue(0, 5);
    t.keep_checkpoint("old.note");
    t.enqueue(5, 13);
    t.keep_checkpoint("new.note");

    for (const char* note : {"old.note", "new.note"}) {
        auto r = t.go("checkpoint", t.path(note));
        INFO(r.out);
        CHECK(r.exit_code == 0);
    }
    // A note carrying a witness's cosignature line (type 0x04, docs/audit-format.md's vector)
    // still opens with Go's note.Open and the log's key alone: unknown signers are ignored.
    write_text(
        t.f.dir / "cosigned.note",
        read_text(t.f.dir / "new.note") +
            "\xE2\x80\x94 witness.example/w1 qkoJ0QAAAABlU/EA2H/smwXz/VFfk8YgoI8OcwZPJ7o09qH28v"
            "DggzIJUz9PZxPN98uDujbkIFF7PSNOCOt3RdHIx64cbDLoWAqyAQ==\n");
    CHECK(t.go("checkpoint", t.path("cosigned.note")).exit_code == 0);

    // "origin size root chain-head hex": the log has the 13 requests and lethe init's entries.
    const std::string printed = t.go("checkpoint", t.path("new.note")).out;
    const int size = std::stoi(printed.substr(printed.find(' ') + 1));
    REQUIRE(size >= 13);

    // Go rebuilds the tree of a whole export with its own stored-hash layout.
    t.ok({"audit", "export", "-o", t.path("full.jsonl")});
    auto tree = t.go("tree", t.path("full.jsonl"));
    INFO(tree.out);
    CHECK(tree.exit_code == 0);

    for (int seq = 1; seq <= size; ++seq) {
        const auto file = t.path("inclusion-" + std::to_string(seq) + ".json");
        write_text(file, t.ok({"audit", "inclusion", std::to_string(seq), "--checkpoint",
                               t.path("new.note"), "--json"})
                             .out);
        auto r = t.go("inclusion", file);
        INFO(seq << ": " << r.out);
        CHECK(r.exit_code == 0);
    }
    write_text(
        t.path("consistency.json"),
        t.ok({"audit", "consistency", t.path("old.note"), t.path("new.note"), "--json"}).out);
    auto cons = t.go("consistency", t.path("consistency.json"));
    INFO(cons.out);
    CHECK(cons.exit_code == 0);
    // The same note as both ends: an empty proof, which tlog accepts for equal trees.
    write_text(
        t.path("same.json"),
        t.ok({"audit", "consistency", t.path("new.note"), t.path("new.note"), "--json"}).out);
    CHECK(t.go("consistency", t.path("same.json")).exit_code == 0);

    // A subject's proof bundle: Go checks both signatures, each entry's hash and its inclusion.
    t.ok({"cancel", "REQ-3", "--reason", "withdrawn"});
    t.ok({"audit", "proof", "--request", "REQ-3", "-o", t.path("bundle.jsonl")});
    auto bundle = t.go("bundle", t.path("bundle.jsonl"));
    INFO(bundle.out);
    CHECK(bundle.exit_code == 0);
    CHECK(bundle.out.find("bundle: 2 entries") != std::string::npos);
    std::string text = read_text(t.f.dir / "bundle.jsonl");
    const auto proof = text.find("\"proof\":\"") + 9;
    text[proof] = text[proof] == 'a' ? 'b' : 'a';
    write_text(t.path("bad-bundle.jsonl"), text);
    CHECK(t.go("bundle", t.path("bad-bundle.jsonl")).exit_code == 1);
}

TEST_CASE("Go's sumdb note and tlog reject tampered checkpoints and proofs", "[e2e][interop]") {
    Interop t;
    t.enqueue(0, 3);
    t.keep_checkpoint("old.note");
    t.enqueue(3, 11);
    t.keep_checkpoint("new.note");
    const std::string incl =
        t.ok({"audit", "inclusion", "4", "--checkpoint", t.path("new.note"), "--json"}).out;
    const std::string cons =
        t.ok({"audit", "consistency", t.path("old.note"), t.path("new.note"), "--json"}).out;
    auto rejects = [&](const std::string& check, const std::string& content) {
        write_text(t.path("tampered.json"), content);
        auto r = t.go(check, t.path("tampered.json"));
        INFO(content << "\n" << r.out << r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("tlogcheck: FAIL") != std::string::npos);
    };
    write_text(t.path("good.json"), incl);
    REQUIRE(t.go("inclusion", t.path("good.json")).exit_code == 0);

    SECTION("a proof hash changed") {
        rejects("inclusion", flip_in(incl, "\"proof\":[\""));
        rejects("consistency", flip_in(cons, "\"proof\":[\""));
    }
    SECTION("another entry's hash") {
        const std::string other =
            t.ok({"audit", "inclusion", "5", "--checkpoint", t.path("new.note"), "--json"}).out;
        const auto hash_of = [](const std::string& j) {
            const auto at = j.find("\"entry_hash\":\"") + 14;
            return j.substr(at, 64);
        };
        std::string swapped = incl;
        swapped.replace(swapped.find(hash_of(incl)), 64, hash_of(other));
        rejects("inclusion", swapped);
    }
    SECTION("a checkpoint's size or signature changed") {
        std::string note = read_text(t.f.dir / "new.note");
        write_text(t.path("bad.note"), flip_in(note, "\n\xE2\x80\x94 "));
        CHECK(t.go("checkpoint", t.path("bad.note")).exit_code == 1);
        rejects("inclusion", flip_in(incl, "\\n\\n\xE2\x80\x94 lethe"));
        // The old note claims a larger size: its signature breaks.
        std::string bigger = cons;
        const auto at = bigger.find("\"old_note\":\"");
        const auto nl = bigger.find("\\n", at) + 2;
        bigger.insert(nl, "1");
        rejects("consistency", bigger);
    }
    SECTION("an entry of an export changed") {
        t.ok({"audit", "export", "-o", t.path("full.jsonl")});
        // Go rebuilds the tree from the entry hashes: another hash, another root than signed.
        std::string text = read_text(t.f.dir / "full.jsonl");
        const auto line3 = text.find("{\"seq\":3,");
        const auto hash = text.find("\"hash\":\"", line3) + 8;
        text[hash] = text[hash] == 'a' ? 'b' : 'a';
        write_text(t.path("tampered.jsonl"), text);
        auto r = t.go("tree", t.path("tampered.jsonl"));
        INFO(r.out);
        CHECK(r.exit_code == 1);
    }
}
