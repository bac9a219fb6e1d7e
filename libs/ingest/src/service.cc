#include "leadrouter/ingest/service.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/ingest/auth.h"
#include "leadrouter/lead/decode.h"
#include "leadrouter/sources/mapping.h"

namespace leadrouter::ingest {
namespace {

constexpr std::string_view kSourcesPrefix = "/v1/sources/";
constexpr char kUnknownSourceLabel[] = "unknown";
constexpr char kJson[] = "application/json";
constexpr char kForm[] = "application/x-www-form-urlencoded";

// Headers a sender may use to name its delivery; the first one present travels on the records.
constexpr std::string_view kDeliveryIdHeaders[] = {"Idempotency-Key", "X-Request-Id",
                                                   "X-Delivery-Id"};

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

http::Response Error(int status, std::string_view code, std::string_view message) {
  return {status,
          "application/json",
          absl::StrCat("{\"error\":{\"code\":", JsonString(code),
                       ",\"message\":", JsonString(message), "}}\n"),
          {}};
}

std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  return absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(absl::string_view(type.data(), type.size())));
}

// The URL the sender called, as it signs it: ingest.http.public_url when set (behind an
// ingress), else rebuilt from the request.
std::string CalledUrl(const config::IngestHttpConfig& http, const http::Request& request) {
  std::string base;
  if (!http.public_url.empty()) {
    base = http.public_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
  } else {
    std::string scheme = request.tls ? "https" : "http";
    const std::string forwarded = request.Header("X-Forwarded-Proto");
    if (!forwarded.empty())
      scheme = absl::AsciiStrToLower(forwarded.substr(0, forwarded.find(',')));
    base = absl::StrCat(scheme, "://", request.Header("Host"));
  }
  return absl::StrCat(base, request.path, request.query.empty() ? "" : "?", request.query);
}

// Decrements the in-flight count when a request leaves.
class InFlightGuard {
 public:
  InFlightGuard(std::atomic<int>& count, IngestMetrics& metrics)
      : count_(count), metrics_(metrics), value_(++count) {
    metrics_.InFlight(value_);
  }
  ~InFlightGuard() { metrics_.InFlight(--count_); }
  int value() const { return value_; }

 private:
  std::atomic<int>& count_;
  IngestMetrics& metrics_;
  int value_;
};

}  // namespace

// --- IngestMetrics ---

struct IngestMetrics::Families {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("leadrouter_ingest_requests_total")
          .Help("HTTP deliveries by source and response code")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& records =
      prometheus::BuildCounter()
          .Name("leadrouter_ingest_records_total")
          .Help("Records stored on Kafka (acknowledged) by source")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& bytes =
      prometheus::BuildCounter()
          .Name("leadrouter_ingest_bytes_total")
          .Help("Bytes of the records stored on Kafka by source")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& auth_failures =
      prometheus::BuildCounter()
          .Name("leadrouter_ingest_auth_failures_total")
          .Help("Deliveries refused 401 by source and reason")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency =
      prometheus::BuildHistogram()
          .Name("leadrouter_ingest_request_seconds")
          .Help("Time from a delivery's arrival to its response (Kafka's acknowledgement included)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& in_flight =
      prometheus::BuildGauge()
          .Name("leadrouter_ingest_requests_in_flight")
          .Help("Deliveries being handled now")
          .Register(*registry);
};

IngestMetrics::IngestMetrics() : families_(std::make_unique<Families>()) {
  families_->in_flight.Add({});
}
IngestMetrics::~IngestMetrics() = default;

std::shared_ptr<prometheus::Registry> IngestMetrics::registry() const {
  return families_->registry;
}

void IngestMetrics::Request(const std::string& source, int status, double seconds) {
  families_->requests.Add({{"source", source}, {"code", std::to_string(status)}}).Increment();
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  families_->latency.Add({{"source", source}}, buckets).Observe(seconds);
}

void IngestMetrics::Records(const std::string& source, size_t records, size_t bytes) {
  families_->records.Add({{"source", source}}).Increment(static_cast<double>(records));
  families_->bytes.Add({{"source", source}}).Increment(static_cast<double>(bytes));
}

void IngestMetrics::AuthFailure(const std::string& source, const std::string& reason) {
  families_->auth_failures.Add({{"source", source}, {"reason", reason}}).Increment();
}

void IngestMetrics::InFlight(int requests) {
  families_->in_flight.Add({}).Set(requests);
}

// --- IngestService ---

IngestService::IngestService(std::shared_ptr<const config::Config> config,
                             kafka::Producer& producer, IngestMetrics& metrics,
                             const core::Clock& clock)
    : config_(std::move(config)),
      producer_(producer),
      metrics_(metrics),
      clock_(clock),
      publisher_(producer) {}

IngestService::~IngestService() = default;

void IngestService::SetConfig(std::shared_ptr<const config::Config> config) {
  std::lock_guard<std::mutex> lock(mu_);
  config_ = std::move(config);
}

std::shared_ptr<const config::Config> IngestService::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

void IngestService::StartDraining() {
  draining_ = true;
}

std::map<std::string, http::Handler> IngestService::Routes() {
  std::map<std::string, http::Handler> routes;
  routes[absl::StrCat(std::string(kSourcesPrefix), "*")] = [this](const http::Request& r) {
    return HandleDelivery(r);
  };
  routes["/healthz"] = [](const http::Request&) {
    return http::Response{200, "text/plain; charset=utf-8", "ok\n", {}};
  };
  routes["/readyz"] = [this](const http::Request&) { return Readyz(); };
  return routes;
}

http::Response IngestService::Readyz() {
  const std::shared_ptr<const config::Config> cfg = config();
  std::lock_guard<std::mutex> lock(ready_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - ready_checked_ >= std::chrono::seconds(1)) {
    ready_status_ = producer_.WarmUp(cfg->kafka.topics.inbound, std::chrono::seconds(2));
    ready_checked_ = std::chrono::steady_clock::now();
  }
  if (draining_) return {503, "text/plain; charset=utf-8", "draining\n", {}};
  if (!ready_status_.ok()) {
    return {503,
            "text/plain; charset=utf-8",
            absl::StrCat("kafka: ", ready_status_.message(), "\n"),
            {}};
  }
  return {200, "text/plain; charset=utf-8", "ready\n", {}};
}

http::Response IngestService::HandleDelivery(const http::Request& request) {
  const auto started = std::chrono::steady_clock::now();
  const std::shared_ptr<const config::Config> cfg = config();
  const config::IngestHttpConfig& limits = cfg->ingest.http;
  std::string label = kUnknownSourceLabel;
  auto answer = [&](http::Response response) {
    metrics_.Request(
        label, response.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return response;
  };
  auto unavailable = [&](std::string_view message) {
    http::Response response = Error(503, "unavailable", message);
    response.headers.emplace_back("Retry-After", std::to_string(limits.retry_after.count()));
    return answer(std::move(response));
  };

  const std::string name = request.path.size() > kSourcesPrefix.size()
                               ? request.path.substr(kSourcesPrefix.size())
                               : std::string();
  const config::SourceConfig* source =
      name.empty() || absl::StrContains(name, "/") ? nullptr : cfg->FindSource(name);
  if (source == nullptr) {
    return answer(Error(404, "unknown_source",
                        absl::StrCat("no source called \"", name.substr(0, 64),
                                     "\" in the config (POST /v1/sources/{name} of sources[])")));
  }
  label = source->name;
  if (source->auth.kind == config::SourceAuth::Kind::kUnset) {
    return answer(Error(404, "unknown_source",
                        absl::StrCat("source \"", source->name,
                                     "\" does not accept HTTP deliveries: give it an auth "
                                     "(sources[].auth)")));
  }
  if (request.method != "POST") {
    http::Response response =
        Error(405, "method_not_allowed", "deliveries are POST /v1/sources/{name}");
    response.headers.emplace_back("Allow", "POST");
    return answer(std::move(response));
  }
  if (draining_) return unavailable("shutting down: retry on another instance or later");

  // Authentication comes before anything reads the body's content.
  Credentials credentials;
  credentials.method = request.method;
  credentials.url = CalledUrl(limits, request);
  credentials.body = request.body;
  credentials.authorization = request.Header("Authorization");
  if (!source->auth.header.empty()) credentials.custom_header = request.Header(source->auth.header);
  credentials.hubspot_signature = request.Header("X-HubSpot-Signature-v3");
  credentials.hubspot_timestamp = request.Header("X-HubSpot-Request-Timestamp");
  if (auto failure =
          Authenticate(source->auth, credentials, clock_.Now(), limits.max_signature_age)) {
    metrics_.AuthFailure(label, failure->reason);
    http::Response response = Error(401, "unauthorized", failure->message);
    if (source->auth.kind == config::SourceAuth::Kind::kBearer) {
      response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"leadrouter-ingest\"");
    } else if (source->auth.kind == config::SourceAuth::Kind::kBasic) {
      response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"leadrouter-ingest\"");
    }
    return answer(std::move(response));
  }

  if (request.body.size() > limits.max_body_bytes) {
    return answer(Error(413, "too_large",
                        absl::StrCat("body of ", request.body.size(), " bytes, the limit is ",
                                     limits.max_body_bytes, " (ingest.http.max_body_bytes)")));
  }
  if (absl::StripAsciiWhitespace(request.body).empty()) {
    return answer(Error(400, "bad_request", "empty body"));
  }
  const std::string content_type_header = request.Header("Content-Type");
  const std::string media_type = MediaType(content_type_header);
  if (!media_type.empty() && media_type != kJson && media_type != kForm) {
    return answer(Error(415, "unsupported_media_type",
                        absl::StrCat("content-type \"", media_type.substr(0, 64),
                                     "\": send application/json or ", kForm)));
  }

  InFlightGuard in_flight(in_flight_, metrics_);
  if (in_flight.value() > limits.max_concurrent_requests) {
    return unavailable(absl::StrCat("more than ", limits.max_concurrent_requests,
                                    " deliveries at once (ingest.http.max_concurrent_requests)"));
  }

  // Divide the delivery into records, each with the event ids the daemon will map it to.
  struct Record {
    std::string payload;
    std::string content_type;
    std::string key;
    std::vector<std::string> event_ids;
  };
  std::vector<Record> records;
  std::vector<std::string> unmappable;  // JSON objects {"record": i, "reason": R}
  if (source->mapping != nullptr) {
    const std::optional<std::string_view> content_type =
        content_type_header.empty() ? std::nullopt
                                    : std::optional<std::string_view>(content_type_header);
    auto split = source->mapping->SplitDelivery(request.body, content_type, clock_.Now());
    if (!split.ok()) {
      return answer(Error(
          400, "bad_request",
          absl::StrCat("the body is not valid ", media_type.empty() ? "for the source" : media_type,
                       ": ", split.status().message())));
    }
    for (sources::Mapping::Piece& piece : split->pieces) {
      if (piece.unmappable) {
        unmappable.push_back(absl::StrCat("{\"record\":", records.size(),
                                          ",\"reason\":", JsonString(*piece.unmappable), "}"));
      }
      Record record;
      record.content_type = piece.split                    ? std::string(kJson)
                            : !content_type_header.empty() ? content_type_header
                                                           : std::string();
      record.event_ids = std::move(piece.event_ids);
      record.payload = std::move(piece.payload);
      records.push_back(std::move(record));
    }
  } else {
    if (media_type == kForm) {
      return answer(Error(415, "unsupported_media_type",
                          absl::StrCat("source \"", source->name,
                                       "\" takes LeadEvent JSON (profile leadevent); map a form "
                                       "with a profile such as web_form")));
    }
    auto split = sources::SplitJsonRecords(request.body);
    if (!split.ok()) {
      return answer(
          Error(400, "bad_request",
                absl::StrCat("the body is not LeadEvent JSON: ", split.status().message())));
    }
    for (std::string& payload : *split) {
      Record record;
      record.content_type = kJson;
      const lead::DecodeResult decoded =
          lead::DecodeLeadEvent(payload, kJson, cfg->kafka.max_event_bytes);
      if (const auto* event = std::get_if<v1::LeadEvent>(&decoded)) {
        if (!event->event_id().empty()) record.event_ids.push_back(event->event_id());
      }
      record.payload = std::move(payload);
      records.push_back(std::move(record));
    }
  }
  size_t events = 0;
  for (const Record& record : records) events += record.event_ids.size();
  const size_t limit = static_cast<size_t>(limits.max_records_per_request);
  if (records.size() > limit || events > limit) {
    return answer(Error(413, "too_many_records",
                        absl::StrCat(std::max(records.size(), events), " records, the limit is ",
                                     limit, " (ingest.http.max_records_per_request)")));
  }

  std::string delivery_id;
  for (std::string_view header : kDeliveryIdHeaders) {
    delivery_id = request.Header(header);
    if (!delivery_id.empty()) break;
  }
  const std::string& topic = source->topic.empty() ? cfg->kafka.topics.inbound : source->topic;
  std::vector<kafka::OutgoingMessage> messages;
  messages.reserve(records.size());
  size_t bytes = 0;
  for (Record& record : records) {
    kafka::OutgoingMessage message;
    message.topic = topic;
    // A record whose events have no id yet (all filtered, or unmappable) is keyed by its bytes:
    // the same delivery retried lands on the same partition.
    message.key = record.event_ids.empty()
                      ? absl::StrCat("sha256-", core::Sha256Hex(record.payload, 32))
                      : record.event_ids.front();
    message.headers.push_back({"x-leadrouter-source", source->name});
    if (!record.content_type.empty())
      message.headers.push_back({"content-type", record.content_type});
    if (!delivery_id.empty())
      message.headers.push_back({kHeaderDeliveryId, delivery_id.substr(0, 256)});
    message.headers.push_back({kHeaderReceivedBy, "leadrouter-ingest"});
    bytes += record.payload.size();
    message.value = std::move(record.payload);
    messages.push_back(std::move(message));
  }

  const GroupPublisher::Result published =
      publisher_.Publish(std::move(messages), started + limits.request_timeout);
  if (!published.status.ok()) {
    return unavailable(absl::StrCat("Kafka did not acknowledge the records (",
                                    absl::StatusCodeToString(published.status.code()),
                                    "): nothing is acknowledged, retry the delivery"));
  }
  if (!published.refused.empty()) {
    const kafka::RefusedMessage& first = published.refused.front();
    return answer(Error(413, "too_large",
                        absl::StrCat("Kafka refused record ", first.index, " of ", records.size(),
                                     " for good (", first.reason, ")")));
  }
  metrics_.Records(label, records.size(), bytes);

  std::vector<std::string> ids;
  for (const Record& record : records) {
    for (const std::string& id : record.event_ids) ids.push_back(JsonString(id));
  }
  std::string body =
      absl::StrCat("{\"source\":", JsonString(source->name), ",\"records\":", records.size(),
                   ",\"events\":", events, ",\"event_ids\":[", absl::StrJoin(ids, ","), "]");
  if (!unmappable.empty()) {
    absl::StrAppend(&body, ",\"unmappable\":[", absl::StrJoin(unmappable, ","), "]");
  }
  body += "}\n";
  return answer({200, "application/json", std::move(body), {}});
}

}  // namespace leadrouter::ingest
