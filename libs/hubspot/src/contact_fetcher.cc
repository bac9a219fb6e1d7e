#include "leadrouter/hubspot/contact_fetcher.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "spdlog/spdlog.h"

namespace leadrouter::hubspot {
namespace {

constexpr size_t kMaxBodyBytes = 1 << 20;
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

Answer Get(const std::string& url, const std::string& token, std::chrono::milliseconds timeout) {
  Answer answer;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) {
    answer.transport_error = "curl_easy_init failed";
    return answer;
  }
  CURL* h = curl.get();
  curl_slist* list = curl_slist_append(nullptr, "Accept: application/json");
  list = curl_slist_append(list, absl::StrCat("Authorization: Bearer ", token).c_str());
  std::unique_ptr<curl_slist, SlistDeleter> headers(list);
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

}  // namespace

ContactFetcher::ContactFetcher() : ContactFetcher(Options{}) {}

ContactFetcher::ContactFetcher(Options options) : options_(std::move(options)) {
  InitCurlOnce();
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
  if (!options_.now) options_.now = [] { return std::chrono::steady_clock::now(); };
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
  if (id.empty() || id.size() > 32 || !std::all_of(id.begin(), id.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      })) {
    return absl::InvalidArgumentError("a HubSpot contact id is digits");
  }
  const std::string key = absl::StrCat(source.name, std::string(1, '\0'), id);
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
    const Answer answer = Get(url, source.enrich.token, source.enrich.timeout);
    std::optional<std::chrono::milliseconds> wait;
    if (answer.status == 200 && !answer.too_large) {
      std::lock_guard<std::mutex> lock(mu_);
      if (options_.cache_entries > 0) {
        if (cache_.size() >= options_.cache_entries) {
          cache_.erase(order_.front());
          order_.pop_front();
        }
        order_.push_back(key);
        cache_[key] = Cached{answer.body, options_.now(), std::prev(order_.end())};
      }
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
    } else if (answer.status >= 500 || answer.status == 0) {
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
