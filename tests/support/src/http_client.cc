#include "leadrouter/testing/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace leadrouter::testing {
namespace {

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Transfer {
  const std::string* body = nullptr;
  size_t sent = 0;
  HttpResponse response;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  static_cast<Transfer*>(user)->response.body.append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    const absl::string_view name(line.data(), colon);
    const absl::string_view value = absl::StripAsciiWhitespace(
        absl::string_view(line.data() + colon + 1, line.size() - colon - 1));
    transfer->response.headers[absl::AsciiStrToLower(name)] = std::string(value);
  } else if (line.starts_with("HTTP/")) {
    transfer->response.headers.clear();  // a 100 Continue's headers are not the answer's
  }
  return size * count;
}

// Feeds the body in pieces of at most 1 KiB, so a chunked request has several chunks.
size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = std::min({size * count, size_t{1024}, transfer->body->size() - transfer->sent});
  std::copy_n(transfer->body->data() + transfer->sent, n, buffer);
  transfer->sent += n;
  return n;
}

}  // namespace

absl::StatusOr<HttpResponse> HttpRequest(const std::string& url, const std::string& body,
                                         const HttpRequestOptions& options) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  CURL* h = curl.get();
  Transfer transfer;
  transfer.body = &body;
  curl_slist* list = nullptr;
  for (const auto& [name, value] : options.headers) {
    list = curl_slist_append(list, absl::StrCat(name, ": ", value).c_str());
  }
  // libcurl would otherwise ask for 100-continue on larger bodies and wait for it.
  list = curl_slist_append(list, "Expect:");
  if (options.chunked) list = curl_slist_append(list, "Transfer-Encoding: chunked");
  std::unique_ptr<curl_slist, SlistDeleter> headers(list);

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  if (!options.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
  if (options.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    if (options.chunked) {
      curl_easy_setopt(h, CURLOPT_READFUNCTION, &OnRead);
      curl_easy_setopt(h, CURLOPT_READDATA, &transfer);
    } else {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    if (options.method != "POST") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, options.method.c_str());
    }
  }
  const CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(options.method, " ", url, ": ", curl_easy_strerror(code)));
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace leadrouter::testing
