#include "leadrouter/testing/fake_hubspot.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace leadrouter::testing {

std::unique_ptr<FakeHubSpot> FakeHubSpot::Start(std::string token,
                                                std::map<std::string, std::string> contacts) {
  auto fake = std::unique_ptr<FakeHubSpot>(new FakeHubSpot());
  fake->token_ = std::move(token);
  fake->contacts_ = std::move(contacts);
  FakeHubSpot* self = fake.get();
  auto server = http::Server::Start(
      {.listen = "127.0.0.1:0",
       .worker_threads = 4,
       .request_timeout = std::chrono::milliseconds(5000),
       .max_body_bytes = 1 << 16,
       .tls_cert_file = "",
       .tls_key_file = ""},
      {{"/crm/v3/objects/contacts/*", [self](const http::Request& r) { return self->Serve(r); }},
       {"/crm/v3/objects/contacts/batch/read",
        [self](const http::Request& r) { return self->ServeBatch(r); }}});
  if (!server.ok()) return nullptr;
  fake->server_ = *std::move(server);
  return fake;
}

std::map<std::string, std::string> FakeHubSpot::ExampleContacts(const std::string& source_dir) {
  std::ifstream in(source_dir + "/deploy/sources/examples/hubspot_webhook.contacts.json");
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  // The file is one object of id → contact: cut each contact at its braces.
  std::map<std::string, std::string> out;
  size_t depth = 0, start = 0;
  std::string id;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] == '"' && depth == 1) {
      const size_t end = all.find('"', i + 1);
      id = all.substr(i + 1, end - i - 1);
      i = end;
    } else if (all[i] == '{') {
      if (++depth == 2) start = i;
    } else if (all[i] == '}') {
      if (depth-- == 2) out[id] = all.substr(start, i - start + 1);
    }
  }
  return out;
}

std::string FakeHubSpot::base_url() const {
  return absl::StrCat("http://127.0.0.1:", server_->port());
}

void FakeHubSpot::Script(const std::string& id, std::vector<Scripted> answers) {
  std::lock_guard<std::mutex> lock(mu_);
  scripts_[id].insert(scripts_[id].end(), answers.begin(), answers.end());
}

std::vector<FakeHubSpot::Call> FakeHubSpot::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

http::Response FakeHubSpot::Serve(const http::Request& request) {
  const std::string id = request.path.substr(std::string("/crm/v3/objects/contacts/").size());
  http::Response out;
  out.content_type = "application/json;charset=utf-8";
  std::lock_guard<std::mutex> lock(mu_);
  calls_.push_back({request.path, request.query, request.Header("Authorization"), ""});
  if (request.method != "GET") {
    out.status = 405;
    return out;
  }
  if (request.Header("Authorization") != "Bearer " + token_) {
    out.status = 401;
    out.body =
        R"({"status":"error","message":"Authentication credentials not found.","category":"INVALID_AUTHENTICATION"})";
    return out;
  }
  if (auto scripted = NextScripted(id)) return *scripted;
  auto contact = contacts_.find(id);
  if (contact == contacts_.end()) {
    out.status = 404;
    out.body =
        R"({"status":"error","message":"Object not found.  objectId are usually numeric.","category":"OBJECT_NOT_FOUND"})";
    return out;
  }
  out.body = contact->second;
  return out;
}

std::optional<http::Response> FakeHubSpot::NextScripted(const std::string& id) {
  auto script = scripts_.find(id);
  if (script == scripts_.end() || script->second.empty()) return std::nullopt;
  const Scripted next = script->second.front();
  script->second.pop_front();
  http::Response out;
  out.content_type = "application/json;charset=utf-8";
  out.status = next.status;
  if (!next.retry_after.empty()) out.headers.emplace_back("Retry-After", next.retry_after);
  out.body =
      next.status == 429
          ? R"({"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","category":"RATE_LIMITS"})"
          : R"({"status":"error","message":"internal error","category":"INTERNAL_ERROR"})";
  return out;
}

http::Response FakeHubSpot::ServeBatch(const http::Request& request) {
  http::Response out;
  out.content_type = "application/json;charset=utf-8";
  std::lock_guard<std::mutex> lock(mu_);
  calls_.push_back({request.path, request.query, request.Header("Authorization"), request.body});
  if (request.method != "POST") {
    out.status = 405;
    return out;
  }
  if (request.Header("Authorization") != "Bearer " + token_) {
    out.status = 401;
    out.body = R"({"status":"error","message":"Authentication credentials not found."})";
    return out;
  }
  if (auto scripted = NextScripted("batch")) return *scripted;
  // The ids of "inputs": [{"id": "..."}] (what leadrouter sends: no blanks).
  std::vector<std::string> found, missing;
  const std::string marker = R"({"id":")";
  const size_t inputs = request.body.find(R"("inputs")");
  for (size_t at = inputs == std::string::npos ? inputs : request.body.find(marker, inputs);
       at != std::string::npos; at = request.body.find(marker, at + 1)) {
    const size_t start = at + marker.size();
    const std::string id = request.body.substr(start, request.body.find('"', start) - start);
    (contacts_.count(id) ? found : missing).push_back(id);
  }
  out.status = missing.empty() ? 200 : 207;
  out.body = R"({"status":"COMPLETE","results":[)";
  for (size_t i = 0; i < found.size(); ++i) {
    absl::StrAppend(&out.body, i ? "," : "", contacts_.at(found[i]));
  }
  out.body += "]";
  if (!missing.empty()) {
    out.body +=
        R"(,"numErrors":1,"errors":[{"status":"error","category":"OBJECT_NOT_FOUND","message":"Could not get some CONTACT objects, they may be deleted or not exist."}])";
  }
  out.body +=
      R"(,"startedAt":"2025-12-01T10:00:00.000Z","completedAt":"2025-12-01T10:00:00.050Z"})";
  return out;
}

}  // namespace leadrouter::testing
