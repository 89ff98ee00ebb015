#include "sandbox/responses.hpp"

namespace lethe::sandbox {

nlohmann::json meta_error(std::string_view message) {
    return {{"meta", {{"error", message}}}};
}

nlohmann::json meta_errors(std::string_view message) {
    return {{"meta", {{"errors", nlohmann::json::array({message})}}}};
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

void drop_connection(httplib::Response& res, std::string partial_body) {
    // The promised length is longer than what is written; returning false from the provider
    // makes httplib close the socket, which is what a crashed upstream or a proxy reset does.
    std::size_t promised = partial_body.size() + 64;
    res.status = 200;
    res.set_content_provider(
        promised, "application/json",
        [body = std::move(partial_body)](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            if (offset == 0 && !body.empty()) {
                sink.write(body.data(), body.size());
            }
            return false;
        });
}

} // namespace lethe::sandbox
