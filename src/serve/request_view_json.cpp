#include "serve/request_view_json.hpp"

#include "util/time.hpp"

#include <algorithm>

namespace lethe::serve {
namespace {

std::string verified_json(const std::optional<bool>& v) {
    return !v ? "null" : *v ? "true" : "false";
}

std::string workspaces_json(const std::vector<store::ErasureProgress>& erasures) {
    std::string out = "[";
    for (const auto& e : erasures) {
        JsonWriter w;
        w.field("workspace", e.workspace).field("state", e.state);
        w.raw("verified", verified_json(e.verified));
        out += (out.size() > 1 ? "," : "") + w.str();
    }
    return out + "]";
}

} // namespace

void add_request_view(JsonWriter& j, const store::RequestView& v) {
    std::optional<bool> verified;
    if (v.state == "done") {
        verified = std::all_of(v.erasures.begin(), v.erasures.end(),
                               [](const store::ErasureProgress& e) { return e.verified == true; });
    }
    j.field("request_id", v.request_id).field("state", v.state);
    j.raw("verified", verified_json(verified));
    j.field("received_at", format_iso8601_ms(v.received_at));
    j.field("deadline_at", format_iso8601_ms(v.deadline_at));
    if (v.finished_at) {
        j.field("finished_at", format_iso8601_ms(*v.finished_at));
    } else {
        j.raw("finished_at", "null");
    }
    j.raw("workspaces", workspaces_json(v.erasures));
}

} // namespace lethe::serve
