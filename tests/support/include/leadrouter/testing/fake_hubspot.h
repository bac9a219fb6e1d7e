#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "leadrouter/http/server.h"

namespace leadrouter::testing {

// HubSpot's CRM objects API as far as leadrouter uses it, on 127.0.0.1 (a free port):
// GET /crm/v3/objects/contacts/{id}?properties=a,b&archived=false with
// `Authorization: Bearer <token>`. Answers 401 for another token (HubSpot's JSON error body),
// 404 for an unknown id, and the contact's JSON as stored otherwise (HubSpot would return only
// the asked-for properties: tests check the query instead). Scripted answers
// (Script) come first, one per request to that id: e.g. 429 with Retry-After, then the contact.
// POST /crm/v3/objects/contacts/batch/read {"properties": [...], "inputs": [{"id"}]} answers
// 200 {"status": "COMPLETE", "results": [...]}, or 207 with "errors" when some ids are unknown;
// its scripted answers are under the id "batch". Thread-safe.
class FakeHubSpot {
 public:
  struct Call {
    std::string path;
    std::string query;
    std::string authorization;
    std::string body;  // a batch read's request
  };
  struct Scripted {
    int status = 429;
    std::string retry_after;  // the header's value, "" for none
  };

  // `contacts`: id → the contact as HubSpot stores it ({"id", "properties": {...}, ...}).
  static std::unique_ptr<FakeHubSpot> Start(std::string token,
                                            std::map<std::string, std::string> contacts);
  // The contacts of deploy/sources/examples/hubspot_webhook.contacts.json.
  static std::map<std::string, std::string> ExampleContacts(const std::string& source_dir);

  std::string base_url() const;
  void Script(const std::string& id, std::vector<Scripted> answers);
  std::vector<Call> calls() const;

 private:
  http::Response Serve(const http::Request& request);
  http::Response ServeBatch(const http::Request& request);
  // A scripted answer for `id`, if one is left (mu_ held).
  std::optional<http::Response> NextScripted(const std::string& id);

  std::string token_;
  std::map<std::string, std::string> contacts_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<Scripted>> scripts_;
  std::vector<Call> calls_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace leadrouter::testing
