#include "crypto/merkle.hpp"
#include "util/strings.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace lethe;
using namespace lethe::crypto::merkle;

namespace {

// The leaves of the certificate-transparency reference tree (RFC 6962 test data, also used by
// Go's transparency-dev/merkle and Trillian).
const std::vector<std::string> k_leaves = {
    "",
    *from_hex("00"),
    *from_hex("10"),
    *from_hex("2021"),
    *from_hex("3031"),
    *from_hex("40414243"),
    *from_hex("5051525354555657"),
    *from_hex("606162636465666768696a6b6c6d6e6f"),
};

// Their roots for sizes 0 to 8.
const char* const k_roots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

// A tree in memory: every complete subtree, as the store keeps them.
struct MemoryTree {
    std::map<std::pair<int, std::int64_t>, std::string> nodes;
    Frontier frontier;

    void add(const std::string& data) {
        const std::string leaf = leaf_hash(data);
        nodes[{0, frontier.size()}] = leaf;
        frontier.push(leaf, [&](NodeId id, const std::string& h) {
            nodes[{id.level, id.index}] = h;
        });
    }
    NodeReader reader() const {
        return [this](NodeId id) {
            return nodes.at({id.level, id.index});
        };
    }
};

MemoryTree tree_of(std::size_t n) {
    MemoryTree t;
    for (std::size_t i = 0; i < n; ++i) {
        t.add(k_leaves[i]);
    }
    return t;
}

std::vector<std::string> hexes(const std::vector<std::string>& raw) {
    std::vector<std::string> out;
    for (const auto& h : raw) {
        out.push_back(to_hex(h));
    }
    return out;
}

std::vector<std::string> raws(const std::vector<std::string>& hex) {
    std::vector<std::string> out;
    for (const auto& h : hex) {
        out.push_back(*from_hex(h));
    }
    return out;
}

} // namespace

TEST_CASE("Merkle roots match the RFC 6962 reference tree", "[crypto][merkle]") {
    for (std::size_t n = 0; n <= 8; ++n) {
        auto t = tree_of(n);
        INFO("size " << n);
        CHECK(to_hex(t.frontier.root()) == k_roots[n]);
        CHECK(to_hex(tree_root(static_cast<std::int64_t>(n), t.reader())) == k_roots[n]);
    }
    CHECK(to_hex(empty_root()) == k_roots[0]);
}

TEST_CASE("Merkle inclusion proofs match the reference vectors", "[crypto][merkle]") {
    auto t = tree_of(8);
    const std::vector<std::string> path0 = {
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
    const std::vector<std::string> path5 = {
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"};
    CHECK(hexes(inclusion_proof(0, 8, t.reader())) == path0);
    CHECK(hexes(inclusion_proof(5, 8, t.reader())) == path5);
    const std::string root = *from_hex(k_roots[8]);
    CHECK(verify_inclusion(0, 8, leaf_hash(k_leaves[0]), raws(path0), root));
    CHECK(verify_inclusion(5, 8, leaf_hash(k_leaves[5]), raws(path5), root));
    CHECK_FALSE(verify_inclusion(4, 8, leaf_hash(k_leaves[5]), raws(path5), root));
    CHECK_FALSE(verify_inclusion(5, 8, leaf_hash(k_leaves[4]), raws(path5), root));
    CHECK_FALSE(verify_inclusion(5, 7, leaf_hash(k_leaves[5]), raws(path5), *from_hex(k_roots[7])));
    CHECK_FALSE(verify_inclusion(5, 4, leaf_hash(k_leaves[5]), raws(path5), root));
    CHECK_THROWS(inclusion_proof(8, 8, t.reader()));
}

TEST_CASE("Merkle consistency proofs match the reference vectors", "[crypto][merkle]") {
    const std::map<std::pair<int, int>, std::vector<std::string>> vectors = {
        {{1, 1}, {}},
        {{1, 8},
         {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
          "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
        {{6, 8},
         {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
          "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
        {{2, 5},
         {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
          "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    };
    for (const auto& [sizes, want] : vectors) {
        auto [m, n] = sizes;
        INFO(m << " -> " << n);
        auto t = tree_of(static_cast<std::size_t>(n));
        CHECK(hexes(consistency_proof(m, n, t.reader())) == want);
        CHECK(verify_consistency(m, n, *from_hex(k_roots[m]), *from_hex(k_roots[n]), raws(want)));
    }
}

TEST_CASE("every Merkle proof of trees up to 40 leaves verifies, and no altered one does",
          "[crypto][merkle]") {
    MemoryTree t;
    std::vector<std::string> roots = {t.frontier.root()};
    for (int i = 0; i < 40; ++i) {
        t.add("leaf " + std::to_string(i));
        roots.push_back(t.frontier.root());
    }
    for (std::int64_t n = 1; n <= 40; ++n) {
        REQUIRE(tree_root(n, t.reader()) == roots[n]);
        for (std::int64_t i = 0; i < n; ++i) {
            auto proof = inclusion_proof(i, n, t.reader());
            const std::string leaf = leaf_hash("leaf " + std::to_string(i));
            REQUIRE(verify_inclusion(i, n, leaf, proof, roots[n]));
            if (!proof.empty()) {
                proof[proof.size() / 2][0] ^= 1;
                REQUIRE_FALSE(verify_inclusion(i, n, leaf, proof, roots[n]));
            }
        }
        for (std::int64_t m = 0; m <= n; ++m) {
            auto proof = consistency_proof(m, n, t.reader());
            REQUIRE(verify_consistency(m, n, roots[m], roots[n], proof));
            if (m > 0 && m < n) {
                REQUIRE_FALSE(verify_consistency(m, n, roots[m], roots[n - 1], proof));
                REQUIRE_FALSE(verify_consistency(m, n, roots[m - 1], roots[n], proof));
                proof.back()[5] ^= 1;
                REQUIRE_FALSE(verify_consistency(m, n, roots[m], roots[n], proof));
                proof.pop_back();
                REQUIRE_FALSE(verify_consistency(m, n, roots[m], roots[n], proof));
            }
        }
    }
}

TEST_CASE("a frontier loaded from stored subtrees goes on like the original", "[crypto][merkle]") {
    MemoryTree t;
    for (int i = 0; i < 13; ++i) {
        t.add("x" + std::to_string(i));
    }
    auto loaded = Frontier::load(13, t.reader());
    CHECK(loaded.root() == t.frontier.root());
    CHECK(loaded.hashes() == t.frontier.hashes());
    CHECK(loaded.hashes().size() == 3); // 13 = 8 + 4 + 1
    std::vector<NodeId> stored;
    loaded.push(leaf_hash("x13"), [&](NodeId id, const std::string&) { stored.push_back(id); });
    CHECK(stored == std::vector<NodeId>{{1, 6}});
    loaded.push(leaf_hash("x14"), [&](NodeId id, const std::string&) { stored.push_back(id); });
    loaded.push(leaf_hash("x15"), [&](NodeId id, const std::string&) { stored.push_back(id); });
    CHECK(stored == std::vector<NodeId>{{1, 6}, {1, 7}, {2, 3}, {3, 1}, {4, 0}});
    t.add("x13");
    t.add("x14");
    t.add("x15");
    CHECK(loaded.root() == t.frontier.root());
}

TEST_CASE("compact ranges join into the tree of both", "[crypto][merkle]") {
    MemoryTree whole;
    for (int i = 0; i < 29; ++i) {
        whole.add("y" + std::to_string(i));
    }
    for (std::int64_t split = 0; split <= 29; ++split) {
        auto left = Frontier::load(split, whole.reader());
        auto right = Frontier::starting_at(split);
        for (std::int64_t i = split; i < 29; ++i) {
            right.push(leaf_hash("y" + std::to_string(i)));
        }
        INFO("split " << split);
        if (split > 0) {
            CHECK_THROWS(right.root());
        }
        auto joined = Frontier::join(left, right);
        CHECK(joined.size() == 29);
        CHECK(joined.root() == whole.frontier.root());
        auto again = Frontier::from_hashes(split, left.hashes());
        REQUIRE(again);
        CHECK(again->root() == left.root());
    }
    CHECK_FALSE(Frontier::from_hashes(5, {leaf_hash("a")}));
    CHECK_THROWS(Frontier::join(Frontier::load(3, whole.reader()), Frontier::starting_at(4)));
}
