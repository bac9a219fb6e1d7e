#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/decide/enricher.h"
#include "leadrouter/sources/mapping.h"

namespace leadrouter::hubspot {

// Fetches HubSpot contacts for the hubspot_webhook profile (kind "hubspot_contact") from the CRM
// objects API (a batch's contacts first in batch reads, see Prefetch): GET
// {api_base_url}/crm/v3/objects/contacts/{id}?properties=a,b&archived=false with `Authorization:
// Bearer <token>` (a private app's access token with crm.objects.contacts.read), over libcurl.
// Answers, per decide::Enricher:
//   200            the contact's JSON (at most 8 MiB), cached per source and id for `cache_ttl`
//                  so a batch retried after another failure does not fetch it again;
//   404            NotFound (the contact was deleted or merged away): the record is unmappable;
//   400, other 4xx InvalidArgument (an id HubSpot refuses); an id that is not digits too;
//   401, 403       Unavailable at once (the token is wrong or lacks the scope: retrying the
//                  same request cannot help, fixing the token does; nothing is dead-lettered);
//   429            waits Retry-After (at most enrich.max_retry_after, else Unavailable at once)
//                  and tries again, up to enrich.max_attempts;
//   5xx, 408, 423, timeouts, connection errors: retried with backoff (250 ms doubling, at most
//                  4 s) up to enrich.max_attempts, then Unavailable.
// Messages name the contact id and the HTTP status (DecodeRecord puts the source in front), never
// a response body; the 401/403 one names where the token comes from, never the token.
// Thread-safe (the cache is locked; requests run unlocked).
class ContactFetcher final : public decide::Enricher {
 public:
  struct Options {
    // How waits between attempts are spent (tests record them instead of sleeping).
    std::function<void(std::chrono::milliseconds)> sleep;
    size_t cache_entries = 4096;
    std::chrono::seconds cache_ttl{60};
    std::function<std::chrono::steady_clock::time_point()> now;  // default steady_clock
  };
  ContactFetcher();
  explicit ContactFetcher(Options options);

  absl::StatusOr<std::string> Fetch(const config::SourceConfig& source,
                                    const sources::Mapping::EnrichRequest& request) override;
  // POST {api_base_url}/crm/v3/objects/contacts/batch/read, 100 ids per request, for the ids
  // not cached (two or more): the contacts found are cached for Fetch. One attempt, no waits;
  // a failure or an id HubSpot did not return leaves that id to Fetch.
  void Prefetch(const config::SourceConfig& source, const std::vector<std::string>& object_ids,
                const std::vector<std::string>& properties) override;

  // HTTP requests sent so far (for tests and logs).
  size_t requests_sent() const;

 private:
  struct Cached {
    std::string body;
    std::chrono::steady_clock::time_point fetched;
    std::list<std::string>::iterator order;
  };
  static std::string CacheKey(const config::SourceConfig& source, std::string_view id);
  static bool IsContactId(std::string_view id);
  void Remember(const std::string& key, const std::string& body);  // mu_ held

  Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // key: source name, '\0', contact id
  std::list<std::string> order_;                   // oldest first, for eviction
  size_t requests_sent_ = 0;
};

}  // namespace leadrouter::hubspot
