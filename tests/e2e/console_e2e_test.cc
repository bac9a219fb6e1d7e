// End to end, the sales-ops console's JSON API and live feed against a real daemon (with
// leadrouter-kafka-mock and redis-server): every endpoint with good and bad input, the same
// scopes and rep limits as gRPC, the Server-Sent Events feed and its resume, and a shutdown
// that an open feed does not hold up.
#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/testing/daemon_fixture.h"
#include "leadrouter/testing/http_client.h"
#include "leadrouter/v1/admin_service.pb.h"
#include "leadrouter/v1/router_service.pb.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;
using testing::HttpRequest;
using testing::HttpRequestOptions;
using testing::HttpResponse;

constexpr char kAdmin[] = "console-admin-secret-0123456789";
constexpr char kViewer[] = "console-viewer-secret-0123456789";
constexpr char kAda[] = "console-ada-secret-0123456789";

std::string LeadJson(const std::string& event_id, const std::string& country = "US") {
  return absl::StrCat(
      R"({"event_id":")", event_id, R"(","occurred_at":"2026-11-22T09:00:00Z",)",
      R"("source_system":"webform","source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)",
      R"("campaign":"spring","person":{"first_name":"Test","email":")", event_id,
      R"(@example.com"},"company":{"name":"Co )", event_id, R"(","country":")", country, R"("}})");
}

// One parsed Server-Sent Event.
struct SseEvent {
  std::string id;
  std::string event = "message";
  std::string data;
};

// A live feed read over a plain socket: the test decides when it has seen enough (an HTTP client
// would wait for a body that never ends).
class SseReader {
 public:
  SseReader(int port, const std::string& target, const std::string& token) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return;
    const std::string request = absl::StrCat(
        "GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n",
        token.empty() ? "" : absl::StrCat("Authorization: Bearer ", token, "\r\n"), "\r\n");
    connected_ = ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) ==
                 static_cast<ssize_t>(request.size());
  }
  ~SseReader() {
    if (fd_ >= 0) ::close(fd_);
  }

  // The status line and headers once they arrived (within `timeout`), else "".
  std::string Head(std::chrono::milliseconds timeout = 10s) {
    ReadUntil([&] { return raw_.find("\r\n\r\n") != std::string::npos; }, timeout);
    const size_t end = raw_.find("\r\n\r\n");
    return end == std::string::npos ? "" : raw_.substr(0, end);
  }

  // Events (not comments) until `count` arrived or `timeout` passed.
  std::vector<SseEvent> Events(size_t count, std::chrono::milliseconds timeout = 15s) {
    ReadUntil([&] { return Parse().size() >= count; }, timeout);
    return Parse();
  }

  // True when the server closed the connection within `timeout`.
  bool Closed(std::chrono::milliseconds timeout) {
    ReadUntil([] { return false; }, timeout);
    return closed_;
  }

 private:
  template <typename Done>
  void ReadUntil(Done done, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (connected_ && !closed_ && !done() && std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buffer[8192];
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      raw_.append(buffer, static_cast<size_t>(n));
    }
  }

  // The body is chunked: undo the chunking, then split the stream into events.
  std::vector<SseEvent> Parse() const {
    const size_t head_end = raw_.find("\r\n\r\n");
    if (head_end == std::string::npos) return {};
    std::string body;
    size_t at = head_end + 4;
    while (true) {
      const size_t line_end = raw_.find("\r\n", at);
      if (line_end == std::string::npos) break;
      size_t size = 0;
      if (!absl::SimpleHexAtoi(raw_.substr(at, line_end - at), &size)) break;
      if (size == 0 || line_end + 2 + size > raw_.size()) break;
      body += raw_.substr(line_end + 2, size);
      at = line_end + 2 + size + 2;
    }
    std::vector<SseEvent> events;
    size_t start = 0;
    while (true) {
      const size_t end = body.find("\n\n", start);
      if (end == std::string::npos) break;
      SseEvent event;
      bool any = false;
      size_t line_start = start;
      while (line_start < end) {
        size_t line_end = body.find('\n', line_start);
        if (line_end == std::string::npos || line_end > end) line_end = end;
        const std::string line = body.substr(line_start, line_end - line_start);
        line_start = line_end + 1;
        if (line.empty() || line[0] == ':') continue;
        const size_t colon = line.find(": ");
        const std::string field = line.substr(0, colon);
        const std::string value = colon == std::string::npos ? "" : line.substr(colon + 2);
        if (field == "id") event.id = value, any = true;
        if (field == "event") event.event = value, any = true;
        if (field == "data") event.data += value, any = true;
      }
      if (any && !event.data.empty()) events.push_back(event);
      start = end + 2;
    }
    return events;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string raw_;
};

class ConsoleEndToEnd : public testing::DaemonFixture {
 protected:
  // Three reps in one pool; tokens: admin (everything), viewer (stream), ada (stream and act,
  // for rep-ada only). `console` is the console section.
  void Start(const std::string& console = R"({listen: "127.0.0.1:0"})") {
    const std::string tokens = ::testing::TempDir() + "/console-tokens-" + std::to_string(getpid());
    std::ofstream(tokens) << "tokens:\n"
                          << "  - {name: admin, token: " << kAdmin
                          << ", scopes: [stream, act, admin]}\n"
                          << "  - {name: viewer, token: " << kViewer << ", scopes: [stream]}\n"
                          << "  - {name: ada, token: " << kAda
                          << ", scopes: [stream, act], reps: [rep-ada]}\n";
    DaemonFixture::WriteConfig(
        {.group_id = "console",
         .grpc = absl::StrCat(R"({listen: "127.0.0.1:0", auth: {tokens_file: )", tokens, "}}"),
         .rest =
             absl::StrCat("reps: [{id: rep-ada, name: Ada}, {id: rep-grace}, {id: rep-linus}]\n",
                          "lifecycle: {accept_sla_s: 0}\n", "console: ", console, "\n")});
    ASSERT_FALSE(StartDaemon().empty());
    ASSERT_TRUE(absl::StartsWith(console_url_, "http://127.0.0.1:")) << console_url_;
    std::string port = console_url_.substr(strlen("http://127.0.0.1:"));
    port = port.substr(0, port.find('/'));
    ASSERT_TRUE(absl::SimpleAtoi(port, &console_port_));
    base_ = absl::StrCat("http://127.0.0.1:", console_port_);
  }

  HttpResponse Call(const std::string& method, const std::string& path, const std::string& token,
                    const std::string& body = "",
                    const std::string& content_type = "application/json") {
    HttpRequestOptions options;
    options.method = method;
    if (!token.empty()) options.headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) options.headers.emplace_back("Content-Type", content_type);
    auto response = HttpRequest(base_ + path, body, options);
    EXPECT_TRUE(response.ok()) << method << " " << path << ": " << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  // The lead of `event_id` once it has been routed (explained through the console).
  v1::AssignmentEvent WaitForLead(const std::string& event_id) {
    v1::AssignmentEvent event;
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until) {
      HttpResponse r = Call("GET", "/console/api/leads?event_id=" + event_id, kAdmin);
      if (r.status == 200) {
        EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &event).ok()) << r.body;
        if (!event.rep_id().empty()) return event;
      }
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "lead " << event_id << " was not routed within 30 s";
    return event;
  }

  int console_port_ = 0;
  std::string base_;
};

// The status and the error's code and field of a refused call.
void ExpectError(const HttpResponse& r, int status, const std::string& code,
                 const std::string& field = "") {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_NE(r.body.find(absl::StrCat("\"code\":\"", code, "\"")), std::string::npos) << r.body;
  if (!field.empty()) {
    EXPECT_NE(r.body.find(absl::StrCat("\"field\":\"", field, "\"")), std::string::npos) << r.body;
  }
  EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "",
            "application/json");
}

TEST_F(ConsoleEndToEnd, ServesItsAssetsAndRefusesCallersWithoutAValidToken) {
  Start();
  HttpResponse page = Call("GET", "/console/", "");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<script src=\"/console/app.js\""), std::string::npos);
  EXPECT_NE(page.headers["content-security-policy"].find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page.headers["x-frame-options"], "DENY");
  HttpResponse script = Call("GET", "/console/app.js", "");
  EXPECT_EQ(script.status, 200);
  EXPECT_TRUE(absl::StartsWith(script.headers["content-type"], "text/javascript"));
  EXPECT_EQ(Call("GET", "/", "").status, 302);
  ExpectError(Call("GET", "/console/nope.js", ""), 404, "NOT_FOUND", "path");

  HttpResponse anonymous = Call("GET", "/console/api/session", "");
  ExpectError(anonymous, 401, "UNAUTHENTICATED");
  EXPECT_NE(anonymous.headers["www-authenticate"].find("Bearer"), std::string::npos);
  ExpectError(Call("GET", "/console/api/session", "not-a-token-of-this-daemon"), 401,
              "UNAUTHENTICATED");

  HttpResponse viewer = Call("GET", "/console/api/session", kViewer);
  EXPECT_EQ(viewer.status, 200) << viewer.body;
  EXPECT_NE(viewer.body.find(R"("principal":"token:viewer")"), std::string::npos) << viewer.body;
  EXPECT_NE(viewer.body.find(R"("scopes":["stream"])"), std::string::npos) << viewer.body;
  // A token limited to rep-ada sees only rep-ada in the roster.
  HttpResponse ada = Call("GET", "/console/api/session", kAda);
  EXPECT_NE(ada.body.find(R"("id":"rep-ada")"), std::string::npos) << ada.body;
  EXPECT_EQ(ada.body.find("rep-grace"), std::string::npos) << ada.body;

  ExpectError(Call("GET", "/console/api/nothing-here", kAdmin), 404, "NOT_FOUND", "path");
  HttpResponse wrong_method = Call("POST", "/console/api/session", kAdmin, "{}");
  ExpectError(wrong_method, 405, "METHOD_NOT_ALLOWED", "method");
  EXPECT_EQ(wrong_method.headers["allow"], "GET");
}

TEST_F(ConsoleEndToEnd, LeadCallsHaveTheGrpcApisChecksAndErrors) {
  Start();
  Publish(LeadJson("c1"), {{"content-type", "application/json"}});
  const v1::AssignmentEvent lead = WaitForLead("c1");
  ASSERT_FALSE(lead.rep_id().empty());
  const std::string path = "/console/api/leads/" + lead.lead_id();
  const std::string rep = lead.rep_id();
  const std::string other = rep == "rep-ada" ? "rep-grace" : "rep-ada";

  // Explain: by lead id, by event id; stream scope may; a rep-limited token only its reps'.
  HttpResponse explained = Call("GET", path, kViewer);
  EXPECT_EQ(explained.status, 200) << explained.body;
  EXPECT_NE(explained.body.find("\"trace\":["), std::string::npos) << explained.body;
  ExpectError(Call("GET", "/console/api/leads/ld_0000000000000000deadbeef", kAdmin), 404,
              "NOT_FOUND");
  ExpectError(Call("GET", "/console/api/leads", kAdmin), 400, "INVALID_ARGUMENT", "lead_id");
  ExpectError(Call("GET", "/console/api/leads?event_id=", kAdmin), 400, "INVALID_ARGUMENT",
              "event_id");
  if (rep != "rep-ada") ExpectError(Call("GET", path, kAda), 403, "PERMISSION_DENIED");

  // Acting: the scope, the rep, the body.
  const std::string accept = path + "/accept";
  ExpectError(Call("POST", accept, kViewer, absl::StrCat(R"({"rep_id":")", rep, "\"}")), 403,
              "PERMISSION_DENIED");
  ExpectError(Call("POST", accept, kAdmin, "{}"), 400, "INVALID_ARGUMENT", "rep_id");
  ExpectError(Call("POST", accept, kAdmin, "{not json"), 400, "INVALID_ARGUMENT", "body");
  ExpectError(Call("POST", accept, kAdmin, R"({"rep_id":"rep-ada","colour":"red"})"), 400,
              "INVALID_ARGUMENT", "body");
  ExpectError(Call("POST", accept, kAdmin, R"({"rep_id":"rep-ada"})", "text/plain"), 400,
              "INVALID_ARGUMENT", "Content-Type");
  ExpectError(
      Call("POST", accept, kAdmin, absl::StrCat(R"({"lead_id":"ld_other","rep_id":")", rep, "\"}")),
      400, "INVALID_ARGUMENT", "lead_id");
  ExpectError(Call("POST", accept, kAdmin, absl::StrCat(R"({"rep_id":")", other, "\"}")), 409,
              "FAILED_PRECONDITION");
  ExpectError(Call("GET", accept, kAdmin), 405, "METHOD_NOT_ALLOWED");
  if (rep != "rep-ada") {
    ExpectError(Call("POST", accept, kAda, absl::StrCat(R"({"rep_id":")", rep, "\"}")), 403,
                "PERMISSION_DENIED");
  }

  HttpResponse accepted = Call("POST", accept, kAdmin, absl::StrCat(R"({"rep_id":")", rep, "\"}"));
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  v1::LeadUpdate update;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(accepted.body, &update).ok());
  ASSERT_EQ(update.events_size(), 1);
  EXPECT_EQ(update.events(0).status(), v1::ASSIGNMENT_STATUS_ACCEPTED);
  EXPECT_EQ(update.events(0).actor(), "token:admin");

  const std::string give_back = path + "/return";
  ExpectError(Call("POST", give_back, kAdmin, absl::StrCat(R"({"rep_id":")", rep, "\"}")), 400,
              "INVALID_ARGUMENT", "reason");
  ExpectError(Call("POST", give_back, kAdmin,
                   absl::StrCat(R"({"rep_id":")", rep, R"(","reason":"RETURN_REASON_SOMETIMES"})")),
              400, "INVALID_ARGUMENT", "body");
  HttpResponse returned =
      Call("POST", give_back, kAdmin,
           absl::StrCat(R"({"rep_id":")", rep, R"(","reason":"RETURN_REASON_BAD_FIT"})"));
  ASSERT_EQ(returned.status, 200) << returned.body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(returned.body, &update).ok());
  ASSERT_EQ(update.events_size(), 2) << returned.body;
  EXPECT_EQ(update.events(0).status(), v1::ASSIGNMENT_STATUS_RETURNED);
  EXPECT_EQ(update.events(1).status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_NE(update.events(1).rep_id(), rep) << "re-routed to another rep";
  ExpectError(Call("POST", path + "/convert", kAdmin,
                   absl::StrCat(R"({"rep_id":")", rep, R"(","value":-5})")),
              400, "INVALID_ARGUMENT", "value");
  ExpectError(Call("POST", path + "/convert", kAdmin, absl::StrCat(R"({"rep_id":")", rep, "\"}")),
              409, "FAILED_PRECONDITION");
  ExpectError(Call("POST", path + "/teleport", kAdmin, "{}"), 404, "NOT_FOUND", "path");
}

TEST_F(ConsoleEndToEnd, AdminCallsNeedTheAdminScope) {
  Start();
  ExpectError(Call("GET", "/console/api/reps", kViewer), 403, "PERMISSION_DENIED");
  HttpResponse reps = Call("GET", "/console/api/reps", kAdmin);
  ASSERT_EQ(reps.status, 200) << reps.body;
  v1::ListRepLoadResponse loads;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(reps.body, &loads).ok());
  EXPECT_EQ(loads.reps_size(), 3);

  const std::string pause = "/console/api/reps/rep-ada/availability";
  ExpectError(Call("POST", pause, kViewer, R"({"paused":true})"), 403, "PERMISSION_DENIED");
  ExpectError(Call("POST", pause, kAda, R"({"paused":true})"), 403, "PERMISSION_DENIED");
  ExpectError(
      Call("POST", "/console/api/reps/rep-nobody/availability", kAdmin, R"({"paused":true})"), 404,
      "NOT_FOUND");
  ExpectError(Call("POST", pause, kAdmin, R"({"rep_id":"rep-grace","paused":true})"), 400,
              "INVALID_ARGUMENT", "rep_id");
  ExpectError(Call("POST", pause, kAdmin, R"({"out_of_office_from":"yesterday"})"), 400,
              "INVALID_ARGUMENT", "body");
  HttpResponse paused = Call("POST", pause, kAdmin, R"({"paused":true})");
  ASSERT_EQ(paused.status, 200) << paused.body;
  v1::RepLoad load;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(paused.body, &load).ok());
  EXPECT_TRUE(load.paused());
  EXPECT_FALSE(load.available_now());
  HttpResponse capped = Call("POST", "/console/api/reps/rep-ada/capacity", kAdmin,
                             R"({"max_open_leads":"3","daily_cap":5})");
  ASSERT_EQ(capped.status, 200) << capped.body;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(capped.body, &load).ok());
  EXPECT_EQ(load.max_open_leads(), 3);
  EXPECT_EQ(load.daily_cap(), 5);
  ExpectError(
      Call("POST", "/console/api/reps/rep-ada/capacity", kAdmin, R"({"max_open_leads":-1})"), 400,
      "INVALID_ARGUMENT", "max_open_leads");

  EXPECT_EQ(Call("GET", "/console/api/unassigned", kAdmin).status, 200);
  ExpectError(Call("GET", "/console/api/unassigned?limit=5000", kAdmin), 400, "INVALID_ARGUMENT",
              "limit");
  ExpectError(Call("GET", "/console/api/unassigned?limit=many", kAdmin), 400, "INVALID_ARGUMENT",
              "limit");
  ExpectError(Call("GET", "/console/api/unassigned", kViewer), 403, "PERMISSION_DENIED");
  ExpectError(Call("POST", "/console/api/config/reload", kViewer), 403, "PERMISSION_DENIED");
  HttpResponse reload = Call("POST", "/console/api/config/reload", kAdmin);
  EXPECT_EQ(reload.status, 200) << reload.body;
  EXPECT_NE(reload.body.find(R"("result":"unchanged")"), std::string::npos) << reload.body;
  ExpectError(Call("POST", "/console/api/claims/resolve", kViewer, "{}"), 403, "PERMISSION_DENIED");
}

TEST_F(ConsoleEndToEnd, LiveFeedTailsTheLogResumesAfterACursorAndFiltersByToken) {
  Start();
  for (const char* id : {"f1", "f2", "f3", "f4"}) {
    Publish(LeadJson(id), {{"content-type", "application/json"}});
  }
  for (const char* id : {"f1", "f2", "f3", "f4"}) WaitForLead(id);

  SseReader everything(console_port_, "/console/api/live", kViewer);
  EXPECT_NE(everything.Head().find("text/event-stream"), std::string::npos);
  std::vector<SseEvent> tail = everything.Events(4);
  ASSERT_EQ(tail.size(), 4u);
  for (const SseEvent& event : tail) {
    EXPECT_EQ(event.event, "message");
    EXPECT_FALSE(event.id.empty());
    v1::AssignmentEvent parsed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(event.data, &parsed).ok())
        << event.data;
    EXPECT_EQ(parsed.cursor(), event.id);
  }

  // A new lead reaches the open feed; a resume after the first cursor gets the rest, once each.
  Publish(LeadJson("f5"), {{"content-type", "application/json"}});
  std::vector<SseEvent> grown = everything.Events(5);
  ASSERT_EQ(grown.size(), 5u);
  EXPECT_NE(grown[4].data.find("\"event_id\":\"f5\""), std::string::npos) << grown[4].data;
  SseReader resumed(console_port_, "/console/api/live?after=" + tail[0].id, kViewer);
  std::vector<SseEvent> rest = resumed.Events(4);
  ASSERT_EQ(rest.size(), 4u);
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i].id, grown[i + 1].id);
  EXPECT_EQ(resumed.Events(5, 1s).size(), 4u) << "nothing twice";

  // A rep-limited token sees only its rep's events; a filter it may not ask for is refused.
  SseReader ada(console_port_, "/console/api/live", kAda);
  for (const SseEvent& event : ada.Events(5, 2s)) {
    EXPECT_NE(event.data.find("\"rep_id\":\"rep-ada\""), std::string::npos) << event.data;
  }
  ExpectError(Call("GET", "/console/api/live?rep=rep-grace", kAda), 403, "PERMISSION_DENIED");
  ExpectError(Call("GET", "/console/api/live?after=yesterday", kViewer), 400, "INVALID_ARGUMENT",
              "after");
  ExpectError(Call("GET", "/console/api/live", ""), 401, "UNAUTHENTICATED");
}

TEST_F(ConsoleEndToEnd, OpenFeedsAreBoundedAndDoNotHoldUpAShutdown) {
  Start(R"({listen: "127.0.0.1:0", max_live_streams: 1})");
  SseReader held(console_port_, "/console/api/live", kViewer);
  ASSERT_NE(held.Head().find(" 200 "), std::string::npos);
  ExpectError(Call("GET", "/console/api/live", kViewer), 503, "UNAVAILABLE", "live");
  // The JSON calls still have threads of their own.
  EXPECT_EQ(Call("GET", "/console/api/session", kViewer).status, 200);

  const auto stop_started = std::chrono::steady_clock::now();
  auto code = StopDaemon();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(held.Closed(5s)) << "the feed ends with the daemon";
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, 10s)
      << "an open feed must not hold the shutdown to its bound";
}

}  // namespace
}  // namespace leadrouter
