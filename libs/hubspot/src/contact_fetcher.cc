#include "leadrouter/hubspot/contact_fetcher.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "simdjson.h"
#include "spdlog/spdlog.h"

namespace leadrouter::hubspot {
namespace {

constexpr size_t kMaxBodyBytes = 8 << 20;  // a batch read of 100 contacts
constexpr size_t kMaxBatchRead = 100;      // HubSpot's limit of inputs per batch read
constexpr std::chrono::milliseconds kFirstBackoff{250};
constexpr std::chrono::milliseconds kMaxBackoff{4000};

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};

struct Answer {
  long status = 0;  // 0: no HTTP answer (see `transport_error`)
  std::string body;
  bool too_large = false;
  std::optional<std::chrono::seconds> retry_after;
  std::string transport_error;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<Answer*>(user);
  if (answer->body.size() + size * count > kMaxBodyBytes) {
    answer->too_large = true;
    return 0;  // aborts the transfer
  }
  answer->body.append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* answer = static_cast<Answer*>(user);
  const absl::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos &&
      absl::EqualsIgnoreCase(line.substr(0, colon), "retry-after")) {
    int64_t seconds = 0;
    // Seconds only: HubSpot sends them so; an HTTP date falls back to the backoff.
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(colon + 1)), &seconds) &&
        seconds >= 0) {
      answer->retry_after = std::chrono::seconds(seconds);
    }
  }
  return size * count;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// GET `url`, or POST `json_body` to it when given.
Answer Send(const std::string& url, const std::string& token, std::chrono::milliseconds timeout,
            const std::string* json_body = nullptr) {
  Answer answer;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) {
    answer.transport_error = "curl_easy_init failed";
    return answer;
  }
  CURL* h = curl.get();
  curl_slist* list = curl_slist_append(nullptr, "Accept: application/json");
  list = curl_slist_append(list, absl::StrCat("Authorization: Bearer ", token).c_str());
  if (json_body != nullptr) {
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(list);
  if (json_body != nullptr) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body->c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(json_body->size()));
  }
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &answer);
  const CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK && !answer.too_large) {
    answer.transport_error = curl_easy_strerror(code);
    return answer;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

std::string Escape(CURL* h, const std::string& text) {
  std::unique_ptr<char, CurlStringDeleter> escaped(
      curl_easy_escape(h, text.data(), static_cast<int>(text.size())));
  return escaped ? std::string(escaped.get()) : std::string();
}

// The JSON string body of `text` (property names: letters, digits and _ in practice).
std::string JsonEscape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out;
}

}  // namespace

ContactFetcher::ContactFetcher() : ContactFetcher(Options{}) {}

ContactFetcher::ContactFetcher(Options options) : options_(std::move(options)) {
  InitCurlOnce();
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
  if (!options_.now) options_.now = [] { return std::chrono::steady_clock::now(); };
}

void ContactFetcher::Remember(const std::string& key, const std::string& body) {
  if (options_.cache_entries == 0) return;
  if (auto it = cache_.find(key); it != cache_.end()) {
    order_.erase(it->second.order);
    cache_.erase(it);
  }
  if (cache_.size() >= options_.cache_entries) {
    cache_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  cache_[key] = Cached{body, options_.now(), std::prev(order_.end())};
}

std::string ContactFetcher::CacheKey(const config::SourceConfig& source, std::string_view id) {
  return absl::StrCat(source.name, std::string(1, '\0'), std::string(id));
}

bool ContactFetcher::IsContactId(std::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

void ContactFetcher::Prefetch(const config::SourceConfig& source,
                              const std::vector<std::string>& object_ids,
                              const std::vector<std::string>& properties) {
  std::vector<std::string> wanted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::set<std::string> seen;
    for (const std::string& id : object_ids) {
      if (!IsContactId(id) || !seen.insert(id).second) continue;
      auto it = cache_.find(CacheKey(source, id));
      if (it != cache_.end() && options_.now() - it->second.fetched < options_.cache_ttl) continue;
      wanted.push_back(id);
    }
  }
  // One read for a single contact is what Fetch does anyway.
  if (wanted.size() < 2 || options_.cache_entries == 0) return;
  const std::string url = absl::StrCat(source.enrich.api_base_url,
                                       "/crm/v3/objects/contacts/batch/read?archived=false");
  for (size_t start = 0; start < wanted.size(); start += kMaxBatchRead) {
    const size_t end = std::min(wanted.size(), start + kMaxBatchRead);
    // Ids are digits and property names come from the mapping's paths: quoted as JSON strings.
    std::string body = "{\"properties\":[";
    for (size_t i = 0; i < properties.size(); ++i) {
      absl::StrAppend(&body, i ? "," : "", "\"", JsonEscape(properties[i]), "\"");
    }
    body += "],\"inputs\":[";
    for (size_t i = start; i < end; ++i) {
      absl::StrAppend(&body, i > start ? "," : "", "{\"id\":\"", wanted[i], "\"}");
    }
    body += "]}";
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_sent_;
    }
    const Answer answer = Send(url, source.enrich.token, source.enrich.timeout, &body);
    // 207 (multi-status): some ids were not found; their Fetch asks for each on its own.
    if ((answer.status != 200 && answer.status != 207) || answer.too_large) {
      spdlog::info(
          "source {}: HubSpot batch read of {} contacts: {}; fetching them one by one", source.name,
          end - start,
          answer.status == 0 ? answer.transport_error : absl::StrCat("HTTP ", answer.status));
      return;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array results;
    if (parser.parse(answer.body).get(doc) != simdjson::SUCCESS ||
        doc["results"].get_array().get(results) != simdjson::SUCCESS) {
      spdlog::info("source {}: HubSpot batch read: an answer without results[]", source.name);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (simdjson::dom::element result : results) {
      std::string_view id;
      if (!result.is_object() || result["id"].get_string().get(id) != simdjson::SUCCESS) continue;
      Remember(CacheKey(source, id), simdjson::minify(result));
    }
  }
}

size_t ContactFetcher::requests_sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_sent_;
}

absl::StatusOr<std::string> ContactFetcher::Fetch(const config::SourceConfig& source,
                                                  const sources::Mapping::EnrichRequest& request) {
  const std::string id(request.object_id);
  if (request.kind != "hubspot_contact") {
    return absl::FailedPreconditionError(
        absl::StrCat("hubspot: cannot fetch a ", std::string(request.kind)));
  }
  if (!IsContactId(id)) return absl::InvalidArgumentError("a HubSpot contact id is digits");
  const std::string key = CacheKey(source, id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (options_.now() - it->second.fetched < options_.cache_ttl) return it->second.body;
      order_.erase(it->second.order);
      cache_.erase(it);
    }
  }

  std::string url;
  {
    std::unique_ptr<CURL, CurlDeleter> escaper(curl_easy_init());
    if (escaper == nullptr) return absl::UnavailableError("hubspot: curl_easy_init failed");
    std::vector<std::string> properties;
    for (const std::string& p : request.properties) {
      properties.push_back(Escape(escaper.get(), p));
    }
    url = absl::StrCat(source.enrich.api_base_url, "/crm/v3/objects/contacts/", id,
                       "?archived=false");
    if (!properties.empty()) absl::StrAppend(&url, "&properties=", absl::StrJoin(properties, ","));
  }
  // DecodeRecord names the source in front of it.
  const std::string what = absl::StrCat("HubSpot contact ", id);
  std::chrono::milliseconds backoff = kFirstBackoff;
  std::string last;
  for (int attempt = 1; attempt <= source.enrich.max_attempts; ++attempt) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_sent_;
    }
    const Answer answer = Send(url, source.enrich.token, source.enrich.timeout);
    std::optional<std::chrono::milliseconds> wait;
    if (answer.status == 200 && !answer.too_large) {
      std::lock_guard<std::mutex> lock(mu_);
      Remember(key, answer.body);
      return answer.body;
    }
    if (answer.too_large) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the answer is larger than ", kMaxBodyBytes, " bytes"));
    }
    if (answer.status == 404) {
      return absl::NotFoundError(absl::StrCat(what, ": not found (404)"));
    }
    if (answer.status == 401 || answer.status == 403) {
      return absl::UnavailableError(absl::StrCat(
          what, ": HubSpot refused the token (", answer.status, "): check ", source.name,
          "'s enrich token (", source.enrich.token_source,
          ") and its crm.objects.contacts.read scope; the records wait until it works"));
    }
    if (answer.status == 429) {
      last = "rate limited (429)";
      if (answer.retry_after) {
        wait = std::chrono::duration_cast<std::chrono::milliseconds>(*answer.retry_after);
        if (*wait > source.enrich.max_retry_after) {
          return absl::UnavailableError(absl::StrCat(what, ": rate limited (429), Retry-After ",
                                                     answer.retry_after->count(), " s"));
        }
      }
    } else if (answer.status >= 500 || answer.status == 0 || answer.status == 408 ||
               answer.status == 423) {
      last = answer.status == 0 ? absl::StrCat("no answer (", answer.transport_error, ")")
                                : absl::StrCat("HTTP ", answer.status);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(what, ": HTTP ", answer.status));
    }
    spdlog::warn("{}: attempt {} of {}: {}", what, attempt, source.enrich.max_attempts, last);
    if (attempt == source.enrich.max_attempts) break;
    if (!wait) {
      wait = backoff;
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
    options_.sleep(*wait);
  }
  return absl::UnavailableError(
      absl::StrCat(what, ": ", last, " after ", source.enrich.max_attempts, " attempts"));
}

}  // namespace leadrouter::hubspot
