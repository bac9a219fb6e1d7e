#include "leadrouter/console/console.h"

#include <google/protobuf/util/json_util.h>

#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/api/error_text.h"
#include "leadrouter/api/grpc_status.h"
#include "leadrouter/console/assets.h"
#include "leadrouter/decide/outcome.h"
#include "leadrouter/protojson/print.h"
#include "leadrouter/v1/console.pb.h"

namespace leadrouter::console {
namespace {

constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kApiPrefix = "/console/api/";

// Every console response: nothing but this origin's own assets may run, nobody may frame it.
void AddSecurityHeaders(http::Response& response) {
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'; form-action 'none'");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
}

http::Response Json(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.content_type = std::string(kJsonType);
  response.body = std::move(body);
  return response;
}

http::Response Error(const absl::Status& status) {
  http::Response response = Json(HttpStatusOf(status.code()), ErrorJson(status));
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"leadrouter\"");
  }
  return response;
}

template <typename Message>
http::Response Answer(const absl::StatusOr<Message>& result) {
  if (!result.ok()) return Error(result.status());
  std::string body = protojson::ToJson(*result);
  body.push_back('\n');
  return Json(200, std::move(body));
}

int FromHex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX and (in a query) '+' decoded; a malformed escape is kept as it is.
std::string Decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && FromHex(text[i + 1]) >= 0 &&
        FromHex(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(FromHex(text[i + 1]) * 16 + FromHex(text[i + 2])));
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// `text` cut at every `separator` (empty pieces kept).
std::vector<std::string_view> SplitOn(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  size_t begin = 0;
  while (true) {
    const size_t end = text.find(separator, begin);
    pieces.push_back(text.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (end == std::string_view::npos) return pieces;
    begin = end + 1;
  }
}

// Every value of `name` in the query, in order.
std::vector<std::string> QueryValues(std::string_view query, std::string_view name) {
  std::vector<std::string> values;
  for (std::string_view pair : SplitOn(query, '&')) {
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    const std::string key = Decode(pair.substr(0, equals), true);
    if (key != name) continue;
    values.push_back(equals == std::string_view::npos ? "" : Decode(pair.substr(equals + 1), true));
  }
  return values;
}

std::optional<std::string> QueryValue(std::string_view query, std::string_view name) {
  std::vector<std::string> values = QueryValues(query, name);
  if (values.empty()) return std::nullopt;
  return values.front();
}

// The request's body into `message` (the protobuf JSON mapping; unknown fields refused). An
// empty body is an empty message.
absl::Status ParseBody(const http::Request& request, google::protobuf::Message& message) {
  if (absl::StripAsciiWhitespace(request.body).empty()) return absl::OkStatus();
  const std::string type = absl::AsciiStrToLower(request.Header("Content-Type"));
  if (!absl::StartsWith(type, "application/json")) {
    return absl::InvalidArgumentError(
        absl::StrCat("Content-Type: must be application/json, got ", api::QuoteForError(type)));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(request.body, &message, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("body: not a ", message.GetDescriptor()->name(), ": ",
                     std::string(parsed.message().data(), parsed.message().size())));
  }
  return absl::OkStatus();
}

// The id a path names must match the body's, when the body gives one too.
absl::Status TakeId(std::string_view field, const std::string& from_path, std::string& in_body) {
  if (!in_body.empty() && in_body != from_path) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": the body says ",
                                                   api::QuoteForError(in_body), ", the path ",
                                                   api::QuoteForError(from_path)));
  }
  in_body = from_path;
  return absl::OkStatus();
}

// A call whose request is the body, with the id the path names (`field`) filled in.
template <typename Request, typename Response>
http::Response Call(const http::Request& http_request, const api::Principal& caller,
                    std::string_view field, const std::string& id_from_path,
                    std::string* (Request::*id_of)(), Request request,
                    absl::StatusOr<Response> (api::ServiceCalls::*call)(const api::Principal&,
                                                                        const Request&),
                    api::ServiceCalls& calls) {
  if (absl::Status parsed = ParseBody(http_request, request); !parsed.ok()) return Error(parsed);
  if (absl::Status id = TakeId(field, id_from_path, *(request.*id_of)()); !id.ok()) {
    return Error(id);
  }
  return Answer((calls.*call)(caller, request));
}

http::Response MethodNotAllowed(std::string_view allowed) {
  http::Response response =
      Json(405, ErrorBody("METHOD_NOT_ALLOWED", absl::StrCat("method: this endpoint answers ",
                                                             std::string(allowed), " only")));
  response.headers.emplace_back("Allow", std::string(allowed));
  return response;
}

http::Response NotFound(std::string_view path) {
  return Error(
      absl::NotFoundError(absl::StrCat("path: no console endpoint ", api::QuoteForError(path))));
}

// Who is signed in and the routing world the views draw: reps (name, zone, pools), pools and
// territories of the live config, restricted to what the caller may see.
http::Response Session(const api::Principal& caller, const config::Config& config, bool auth) {
  v1::ConsoleSession session;
  session.set_principal(caller.name);
  for (api::Scope scope : caller.scopes) session.add_scopes(std::string(api::ScopeName(scope)));
  session.set_restricted(!caller.Unrestricted());
  session.set_auth(auth);
  session.set_config_version(config.version);
  for (const routing::RepProfile& profile : config.routing.reps) {
    if (!caller.MayActFor(profile.id, config.routing)) continue;
    v1::ConsoleRep& rep = *session.add_reps();
    rep.set_id(profile.id);
    const config::RepConfig* named = config.FindRep(profile.id);
    rep.set_name(named == nullptr || named->name.empty() ? profile.id : named->name);
    rep.set_timezone(profile.timezone);
    rep.set_max_open_leads(profile.max_open_leads);
    rep.set_daily_cap(profile.daily_cap);
    for (const routing::Pool& pool : config.routing.pools) {
      for (const routing::PoolMember& member : pool.members) {
        if (member.rep_id == profile.id) rep.add_pools(pool.name);
      }
    }
  }
  for (const routing::Pool& pool : config.routing.pools) {
    // A token limited to some reps sees the pools they are in, with only them as members.
    v1::ConsolePool out;
    for (const routing::PoolMember& member : pool.members) {
      if (!caller.MayActFor(member.rep_id, config.routing)) continue;
      v1::ConsolePoolMember& visible = *out.add_members();
      visible.set_rep_id(member.rep_id);
      visible.set_weight(member.weight);
    }
    if (out.members().empty() && !caller.Unrestricted()) continue;
    out.set_name(pool.name);
    out.set_strategy(std::string(routing::StrategyName(pool.strategy)));
    out.set_overflow_pool(pool.overflow_pool);
    *session.add_pools() = std::move(out);
  }
  for (const routing::Territory& territory : config.routing.territories) {
    session.add_territories(territory.name);
  }
  return Answer(absl::StatusOr<v1::ConsoleSession>(std::move(session)));
}

// One Server-Sent Event for a log event.
std::string SseEvent(const v1::AssignmentEvent& event) {
  return absl::StrCat("id: ", event.cursor(), "\ndata: ", protojson::ToJson(event), "\n\n");
}

std::string SseNamed(std::string_view name, const absl::Status& status) {
  std::string json = ErrorJson(status);
  while (!json.empty() && json.back() == '\n') json.pop_back();
  return absl::StrCat("event: ", std::string(name), "\ndata: ", json, "\n\n");
}

}  // namespace

std::string ErrorBody(std::string_view code, std::string_view message) {
  v1::ConsoleErrorResponse response;
  v1::ConsoleError& error = *response.mutable_error();
  error.set_code(std::string(code));
  error.set_field(FieldOfError(message));
  error.set_message(api::BoundErrorMessage(message));
  std::string body = protojson::ToJson(response);
  body.push_back('\n');
  return body;
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return 503;
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
      return 500;
    default:
      return 500;
  }
}

std::string FieldOfError(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0) return "";
  const std::string_view field = message.substr(0, colon);
  for (char c : field) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '[' &&
        c != ']' && c != '-') {
      return "";
    }
  }
  return std::string(field);
}

std::string ErrorJson(const absl::Status& status) {
  return ErrorBody(api::StatusCodeName(static_cast<grpc::StatusCode>(status.code())),
                   std::string_view(status.message().data(), status.message().size()));
}

Console::Console(api::ServiceCalls& calls, ConsoleOptions options)
    : calls_(calls), options_(std::move(options)) {}

Console::~Console() {
  Stop();
}

void Console::Stop() {
  stopping_.store(true);
}

std::map<std::string, http::Handler> Console::Routes() {
  auto serve = [this](const http::Request& request) {
    http::Response response = Serve(request);
    AddSecurityHeaders(response);
    return response;
  };
  return {{"/", serve}, {"/console", serve}, {"/console/*", serve}};
}

http::Response Console::Serve(const http::Request& request) {
  const std::string& path = request.path;
  if (path == "/" || path == "/console") {
    http::Response redirect;
    redirect.status = 302;
    redirect.headers.emplace_back("Location", "/console/");
    return redirect;
  }
  if (path.rfind(kApiPrefix, 0) == 0) {
    return ServeApi(request, std::string_view(path).substr(kApiPrefix.size()));
  }
  const std::string_view name =
      path == "/console/" ? "index.html" : std::string_view(path).substr(strlen("/console/"));
  for (const Asset& asset : Assets()) {
    if (asset.name != name) continue;
    if (request.method != "GET" && request.method != "HEAD") return MethodNotAllowed("GET");
    http::Response response;
    response.content_type = std::string(asset.content_type);
    response.body = std::string(asset.body);
    return response;
  }
  return NotFound(path);
}

http::Response Console::ServeApi(const http::Request& request, std::string_view path) {
  std::vector<std::string> parts;
  for (std::string_view part : SplitOn(path, '/')) parts.push_back(Decode(part, false));
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  if (parts.empty()) return NotFound(request.path);

  // Whether to ask for a token at all: the only call without one (it tells nothing else).
  if (parts[0] == "hello" && parts.size() == 1) {
    if (request.method != "GET") return MethodNotAllowed("GET");
    return Json(200, calls_.authorizer().enabled() ? "{\"auth\":true}\n" : "{\"auth\":false}\n");
  }
  auto caller = calls_.authorizer().AuthenticateHeader(request.Header("Authorization"));
  if (!caller.ok()) return Error(caller.status());
  const std::string& method = request.method;
  const bool get = method == "GET";
  const bool post = method == "POST";
  const std::string& what = parts[0];
  const size_t n = parts.size();

  if (what == "session" && n == 1) {
    if (!get) return MethodNotAllowed("GET");
    return Session(*caller, *calls_.operations().CurrentConfig(), calls_.authorizer().enabled());
  }
  if (what == "live" && n == 1) {
    if (!get) return MethodNotAllowed("GET");
    return Live(request, *caller);
  }
  if (what == "leads") {
    if (n == 1) {
      // Search: by event id (the lead id is derived from it).
      if (!get) return MethodNotAllowed("GET");
      v1::ExplainLeadRequest explain;
      if (auto lead = QueryValue(request.query, "lead_id"); lead.has_value()) {
        explain.set_lead_id(*lead);
      } else if (auto event = QueryValue(request.query, "event_id"); event.has_value()) {
        if (event->empty()) return Error(absl::InvalidArgumentError("event_id: is empty"));
        explain.set_lead_id(decide::LeadIdFor(options_.tenant, *event));
      } else {
        return Error(absl::InvalidArgumentError("lead_id: give lead_id or event_id"));
      }
      return Answer(calls_.Explain(*caller, explain));
    }
    const std::string& lead_id = parts[1];
    if (n == 2) {
      if (!get) return MethodNotAllowed("GET");
      v1::ExplainLeadRequest explain;
      explain.set_lead_id(lead_id);
      return Answer(calls_.Explain(*caller, explain));
    }
    if (n == 3) {
      if (!post) return MethodNotAllowed("POST");
      auto act = [&](auto message, auto call) {
        return Call(request, *caller, "lead_id", lead_id, &decltype(message)::mutable_lead_id,
                    std::move(message), call, calls_);
      };
      if (parts[2] == "accept") return act(v1::AcceptLeadRequest(), &api::ServiceCalls::Accept);
      if (parts[2] == "return") return act(v1::ReturnLeadRequest(), &api::ServiceCalls::Return);
      if (parts[2] == "convert") {
        return act(v1::ConvertLeadRequest(), &api::ServiceCalls::Convert);
      }
    }
    return NotFound(request.path);
  }
  if (what == "reps") {
    if (n == 1) {
      if (!get) return MethodNotAllowed("GET");
      return Answer(calls_.ListRepLoad(*caller));
    }
    if (n == 3) {
      if (!post) return MethodNotAllowed("POST");
      const std::string& rep_id = parts[1];
      auto admin = [&](auto message, auto call) {
        return Call(request, *caller, "rep_id", rep_id, &decltype(message)::mutable_rep_id,
                    std::move(message), call, calls_);
      };
      if (parts[2] == "availability") {
        return admin(v1::SetAvailabilityRequest(), &api::ServiceCalls::SetAvailability);
      }
      if (parts[2] == "capacity") {
        return admin(v1::SetCapacityRequest(), &api::ServiceCalls::SetCapacity);
      }
    }
    return NotFound(request.path);
  }
  if (what == "unassigned" && n == 1) {
    if (!get) return MethodNotAllowed("GET");
    v1::ListUnassignedRequest list;
    if (auto limit = QueryValue(request.query, "limit"); limit.has_value()) {
      int value = 0;
      if (!absl::SimpleAtoi(*limit, &value)) {
        return Error(absl::InvalidArgumentError(
            absl::StrCat("limit: ", api::QuoteForError(*limit), " is not a number")));
      }
      list.set_limit(value);
    }
    return Answer(calls_.ListUnassigned(*caller, list));
  }
  if (what == "claims") {
    if (n == 1) {
      if (!get) return MethodNotAllowed("GET");
      v1::ListClaimsRequest list;
      for (const std::string& rep : QueryValues(request.query, "rep")) list.add_rep_ids(rep);
      if (auto domain = QueryValue(request.query, "domain"); domain.has_value()) {
        list.set_domain(*domain);
      }
      list.set_open_conflicts_only(QueryValue(request.query, "open_conflicts_only") == "true");
      return Answer(calls_.ListClaims(*caller, list));
    }
    if (n == 2 && parts[1] == "resolve") {
      if (!post) return MethodNotAllowed("POST");
      v1::ResolveClaimConflictRequest resolve;
      if (absl::Status parsed = ParseBody(request, resolve); !parsed.ok()) return Error(parsed);
      return Answer(calls_.ResolveClaimConflict(*caller, resolve));
    }
    return NotFound(request.path);
  }
  if (what == "config" && n == 2 && parts[1] == "reload") {
    if (!post) return MethodNotAllowed("POST");
    return Answer(calls_.ReloadConfig(*caller));
  }
  return NotFound(request.path);
}

http::Response Console::Live(const http::Request& request, const api::Principal& caller) {
  v1::StreamAssignmentsRequest subscription;
  for (const std::string& rep : QueryValues(request.query, "rep")) subscription.add_rep_ids(rep);
  for (const std::string& pool : QueryValues(request.query, "pool")) subscription.add_pools(pool);
  auto filter = calls_.FilterFor(caller, subscription);
  if (!filter.ok()) return Error(filter.status());
  std::string after = QueryValue(request.query, "after").value_or("");
  // A browser's own reconnect sends the last id it saw.
  if (after.empty()) after = request.Header("Last-Event-ID");
  uint64_t ms = 0, seq = 0;
  if (!after.empty() && !api::ParseCursor(after, ms, seq)) {
    return Error(absl::InvalidArgumentError(
        absl::StrCat("after: ", api::QuoteForError(after), " is not a cursor (<ms>-<seq>)")));
  }
  if (live_streams_.fetch_add(1) >= options_.max_live_streams) {
    live_streams_.fetch_sub(1);
    return Error(absl::UnavailableError(absl::StrCat("live: ", options_.max_live_streams,
                                                     " live feeds are open already; retry later")));
  }

  // The feed's state; its destructor (when the server lets go of the response) frees the slot.
  struct Feed {
    explicit Feed(std::atomic<size_t>& count) : streams(count) {}
    ~Feed() { streams.fetch_sub(1); }
    std::atomic<size_t>& streams;
    api::StreamFilter filter;
    std::string cursor;
    bool started = false;
    std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  };
  auto feed = std::make_shared<Feed>(live_streams_);
  feed->filter = *std::move(filter);
  feed->cursor = after;

  http::Response response;
  // Exactly this type: httplib compresses other text/* types for a browser that accepts gzip,
  // and its compressor would hold the events back until a buffer fills.
  response.content_type = "text/event-stream";
  response.headers.emplace_back("X-Accel-Buffering", "no");
  response.stream = [this, feed](const http::StreamWriter& write) -> bool {
    if (stopping_.load()) return false;
    api::LeadOperations& operations = calls_.operations();
    std::string out;
    auto send = [&]() {
      if (out.empty()) return true;
      feed->last_write = std::chrono::steady_clock::now();
      return write(out);
    };
    if (!feed->started) {
      feed->started = true;
      out = "retry: 2000\n: connected\n\n";
      if (feed->cursor.empty()) {
        auto tail = operations.ReadLogTail(options_.live_backlog);
        if (!tail.ok()) {
          out += SseNamed("failure", tail.status());
          send();
          return false;
        }
        feed->cursor = tail->empty() ? "0-0" : tail->back()->cursor();
        for (const auto& event : *tail) {
          if (feed->filter.Wants(*event)) out += SseEvent(*event);
        }
      } else if (auto trimmed = operations.LogTrimmedUpTo();
                 trimmed.ok() && api::CursorBefore(feed->cursor, *trimmed)) {
        // Events between the cursor and the oldest retained one are gone: say so, then go on
        // from what is left.
        out += SseNamed(
            "gap", absl::OutOfRangeError(absl::StrCat(
                       "after: ", feed->cursor, " is older than the retained log (oldest retained ",
                       *trimmed, "); events in between are not shown")));
      }
      return send();
    }
    constexpr size_t kPage = 200;
    auto page = operations.ReadLog(feed->cursor, kPage);
    if (!page.ok()) {
      // Redis is unreachable for now: say so once per poll and try again.
      out = SseNamed("failure", page.status());
    } else {
      for (const auto& event : *page) {
        feed->cursor = event->cursor();
        if (feed->filter.Wants(*event)) out += SseEvent(*event);
      }
      if (page->size() == kPage) return send();  // more waiting: no pause
    }
    if (out.empty() &&
        std::chrono::steady_clock::now() - feed->last_write >= options_.live_heartbeat) {
      out = ": heartbeat\n\n";
    }
    if (!send()) return false;
    const auto until = std::chrono::steady_clock::now() + options_.live_poll;
    while (!stopping_.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(
          std::min<std::chrono::milliseconds>(std::chrono::milliseconds(50), options_.live_poll));
    }
    return !stopping_.load();
  };
  return response;
}

}  // namespace leadrouter::console
