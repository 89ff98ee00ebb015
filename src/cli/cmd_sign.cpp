#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "config/secrets.hpp"
#include "serve/signature.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

#include <iostream>

namespace lethe::cli {
namespace {

// The body as given, at most the intake's largest (1 MiB): a larger one would only get 413.
std::string read_body(const std::string& file) {
    if (file.empty() || file == "-") {
        return InputFile::standard_input(FileKind::request_body).read_all();
    }
    return read_file(file, FileKind::request_body);
}

// The first line of a secret file (a two-line file holds the current secret, then the next).
std::string signing_secret(const std::string& file) {
    std::string text = config::read_private_file(file);
    std::string secret = text.substr(0, text.find('\n'));
    if (!secret.empty() && secret.back() == '\r') {
        secret.pop_back();
    }
    if (secret.empty()) {
        throw ConfigError(file + ": the first line is empty; expected the intake secret");
    }
    config::register_secret_for_redaction(secret);
    return secret;
}

// `lethe sign --secret-file F [BODY_FILE] [--timestamp T]`.
class SignCommand final : public Command {
public:
    void define(CLI::App& app) override {
        app.footer("Prints the two headers that authenticate BODY_FILE (standard input when "
                   "absent or '-') for POST /v1/erasure-requests: X-Lethe-Timestamp (now, in "
                   "Unix seconds) and X-Lethe-Signature (hex HMAC-SHA256 of \"v0:\" + timestamp "
                   "+ \":\" + body under the first line of the secret file). Send the body byte "
                   "for byte as signed. See docs/intake.md.");
        app.add_option("--secret-file", m_secret_file,
                       "File holding the intake secret (mode 0600; first line used)")
            ->required();
        app.add_option("body", m_body_file, "File holding the exact request body");
        // At most 12 digits: the intake refuses a longer X-Lethe-Timestamp as malformed.
        app.add_option("--timestamp", m_timestamp, "Unix seconds to sign with (default: now)")
            ->transform(whole_number(0, 999'999'999'999));
    }

    int run(Context& ctx) override {
        const std::string secret = signing_secret(m_secret_file);
        const std::string body = read_body(m_body_file);
        const std::string timestamp =
            std::to_string(m_timestamp >= 0 ? m_timestamp : ctx.clock().now_ms() / 1000);
        std::cout << serve::k_timestamp_header << ": " << timestamp << "\n"
                  << serve::k_signature_header << ": "
                  << serve::sign_request(secret, timestamp, body) << "\n";
        return 0;
    }

private:
    std::string m_secret_file;
    std::string m_body_file;
    std::int64_t m_timestamp = -1;
};

} // namespace

std::unique_ptr<Command> make_sign_command() {
    return std::make_unique<SignCommand>();
}

} // namespace lethe::cli
