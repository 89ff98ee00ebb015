#pragma once

#include "store/request_views.hpp"
#include "util/json_writer.hpp"

namespace lethe::serve {

// Adds what a sender may know of a request to `j` (docs/intake.md, "Status"): request_id, state,
// verified (done: true when every workspace read it back as gone; null before done), received_at,
// deadline_at, finished_at (null until finished) and workspaces: [{workspace, state, verified}].
// Never the identifier or its digest.
void add_request_view(JsonWriter& j, const store::RequestView& v);

} // namespace lethe::serve
