#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace lethe::sandbox {

// {"meta":{"error":MESSAGE}}, the shape of most Track API errors.
nlohmann::json meta_error(std::string_view message);

// {"meta":{"errors":[MESSAGE]}}, the shape of Track API validation errors.
nlohmann::json meta_errors(std::string_view message);

// Sets `status` and a JSON body (invalid UTF-8 in strings is replaced, never thrown on).
void send_json(httplib::Response& res, int status, const nlohmann::json& body);

// Answers 200 with a Content-Length, writes the first bytes of `partial_body` and then drops
// the connection, so the client sees a transport error rather than an HTTP status.
void drop_connection(httplib::Response& res, std::string partial_body);

} // namespace lethe::sandbox
