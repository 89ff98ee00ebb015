#pragma once

#include "cio/track_client.hpp"
#include "net/http.hpp"
#include "util/clock.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace lethe::cio {

// What an App API read found.
struct Lookup {
    CallResult call;
    std::vector<std::string> cio_ids; // the profiles found (each at most once)
    // The workspace does not have this id_type as an identifier (HTTP 400 on a typed read): an
    // e-mail in a workspace that identifies people by id only, for example.
    bool not_an_identifier = false;
};

// What a bulk read of several identifiers of one type found: for each value asked, in order, the
// profiles it refers to.
struct BulkLookup {
    CallResult call;
    std::vector<std::vector<std::string>> cio_ids; // per value asked (empty: nobody has it)
    // The workspace does not have this id_type as an identifier (HTTP 400).
    bool not_an_identifier = false;
};

// The most pages of one search lethe follows (1000 profiles each): a search for one person's
// phone number that finds more is not what it seems.
inline constexpr int k_max_search_pages = 5;

// The most values one bulk read takes (the App API's limit).
inline constexpr std::size_t k_max_bulk_values = 100;

// The App API reads lethe makes (https://api.customer.io, Bearer APP_API_KEY), used to find every
// profile an identifier refers to and to read back that they are gone. Redirects are not
// followed (a 3xx ends the call with Outcome::halt). Not thread-safe (like its HttpClient).
class AppClient {
public:
    // Keeps references to `http` and `clock`. Throws lethe::ConfigError when `endpoint` breaks
    // validate_endpoint's policy (its `track_url` holds the App API's base URL here).
    AppClient(net::HttpClient& http, Endpoint endpoint, std::string api_key, const Clock& clock);

    // Uses a new key from the next call on (rotation).
    void set_api_key(std::string api_key);

    // Every profile `who` refers to: for an e-mail, GET /v1/customers?email= (every profile with
    // that address, whatever the workspace's identifier setting); for a phone number, search();
    // for an id or a cio_id, GET /v1/customers/{value}/attributes?id_type= (404: none).
    Lookup find(const Target& who);

    // Every profile whose attribute `field` equals `value`, identifier or not: POST
    // /v1/customers with {"filter": {"attribute": {"field", "operator": "eq", "value"}}}, its
    // pages followed (at most k_max_search_pages; more is an unexpected body).
    Lookup search(const std::string& field, std::string_view value);

    // Which of `cio_ids` still exist: POST /v1/customers/attributes?id_type=cio_id, 100 ids a
    // call. The first call that fails ends the lookup with its result.
    Lookup present(const std::vector<std::string>& cio_ids);

    // The profiles of up to k_max_bulk_values identifiers of one type in one call: POST
    // /v1/customers/attributes?id_type=TYPE. Each profile of the answer is matched back to the
    // value it answers by its identifiers (e-mail case-insensitively); an answer that cannot be
    // matched is an unexpected body (retryable), never "nobody". Throws std::invalid_argument
    // on an empty or oversized list.
    BulkLookup find_many(const std::string& id_type, const std::vector<std::string>& values);

    // Whether e-mail is an identifier of the workspace: a typed read of `email` answers 404 or
    // 200 where it is, 400 where it is not.
    Lookup email_is_identifier(std::string_view email);

private:
    struct Exchange {
        CallResult call;
        net::HttpResponse response;
    };
    Exchange send(const char* method, const std::string& path_and_query, std::string body);

    net::HttpClient& m_http;
    std::string m_base;
    std::string m_api_key;
    const Clock& m_clock;
};

} // namespace lethe::cio
