// http::Server over loopback with a real client (libcurl): routes, limits, chunked bodies,
// handler failures and TLS set-up errors.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/http/server.h"
#include "leadrouter/testing/http_client.h"

namespace leadrouter::http {
namespace {

using testing::HttpRequest;
using testing::HttpRequestOptions;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::map<std::string, Handler> routes;
    routes["/exact"] = [](const Request& r) {
      return Response{200, "text/plain", absl::StrCat("exact ", r.method, " ", r.query), {}};
    };
    routes["/v1/sources/*"] = [](const Request& r) {
      return Response{201,
                      "application/json",
                      absl::StrCat(r.path, "|", r.body.size(), "|", r.Header("x-custom")),
                      {{"X-Extra", "yes"}}};
    };
    routes["/v1/sources/special*"] = [](const Request&) {
      return Response{202, "text/plain", "longest prefix", {}};
    };
    routes["/throws"] = [](const Request&) -> Response { throw std::runtime_error("boom"); };
    ServerOptions options;
    options.max_body_bytes = 1000;
    options.worker_threads = 4;
    auto server = Server::Start(options, std::move(routes));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    base_ = absl::StrCat("http://127.0.0.1:", server_->port());
  }

  std::unique_ptr<Server> server_;
  std::string base_;
};

TEST_F(HttpServerTest, ExactAndLongestPrefixRoutesAndA404) {
  HttpRequestOptions get;
  get.method = "GET";
  auto exact = HttpRequest(base_ + "/exact?a=%3A1", "", get);
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_EQ(exact->status, 200);
  EXPECT_EQ(exact->body, "exact GET a=%3A1") << "the query as sent, not decoded";

  HttpRequestOptions post;
  post.headers = {{"X-Custom", "v"}};
  auto prefix = HttpRequest(base_ + "/v1/sources/hubspot", "12345", post);
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(prefix->status, 201);
  EXPECT_EQ(prefix->body, "/v1/sources/hubspot|5|v");
  EXPECT_EQ(prefix->headers["x-extra"], "yes");
  EXPECT_EQ(prefix->headers["cache-control"], "no-store");

  auto longest = HttpRequest(base_ + "/v1/sources/special-one", "x");
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->status, 202);

  auto missing = HttpRequest(base_ + "/nope", "", get);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(HttpServerTest, ChunkedBodiesAreReadAndBothKindsOfOversizeAre413Json) {
  HttpRequestOptions chunked;
  chunked.chunked = true;
  auto small = HttpRequest(base_ + "/v1/sources/a", std::string(900, 'x'), chunked);
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->status, 201);
  EXPECT_EQ(small->body, "/v1/sources/a|900|");

  for (const bool is_chunked : {false, true}) {
    HttpRequestOptions options;
    options.chunked = is_chunked;
    auto big = HttpRequest(base_ + "/v1/sources/a", std::string(5000, 'x'), options);
    ASSERT_TRUE(big.ok()) << big.status();
    EXPECT_EQ(big->status, 413) << "chunked " << is_chunked;
    EXPECT_TRUE(absl::StrContains(big->body, "\"code\":\"too_large\"")) << big->body;
  }
}

TEST_F(HttpServerTest, AThrowingHandlerIs500AndTheServerGoesOn) {
  auto failed = HttpRequest(base_ + "/throws", "x");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, 500);
  auto after = HttpRequest(base_ + "/v1/sources/a", "x");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, 201);
}

TEST(HttpServerStreamTest, AStreamedBodyIsSentChunkByChunkUntilItsProducerStops) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto server = Server::Start({}, {{"/events", [calls](const Request&) {
                                      Response response;
                                      response.content_type = "text/event-stream";
                                      response.stream = [calls](const StreamWriter& write) {
                                        const int n = ++*calls;
                                        if (!write(absl::StrCat("data: ", n, "\n\n"))) return false;
                                        return n < 3;
                                      };
                                      return response;
                                    }}});
  ASSERT_TRUE(server.ok()) << server.status();
  HttpRequestOptions get;
  get.method = "GET";
  auto response =
      HttpRequest(absl::StrCat("http://127.0.0.1:", (*server)->port(), "/events"), "", get);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
  EXPECT_EQ(response->headers["transfer-encoding"], "chunked");
  EXPECT_EQ(*calls, 3);
}

TEST(HttpServerStreamTest, AnEndlessStreamEndsWhenItsClientLeavesOrTheServerStops) {
  auto left = std::make_shared<std::atomic<bool>>(false);
  auto routes = std::map<std::string, Handler>{
      {"/forever",
       [left](const Request&) {
         Response response;
         response.content_type = "text/event-stream";
         response.stream = [left](const StreamWriter& write) {
           std::this_thread::sleep_for(std::chrono::milliseconds(20));
           if (!write(": still here\n\n")) {
             left->store(true);
             return false;
           }
           return true;
         };
         return response;
       }},
      {"/throws", [](const Request&) {
         Response response;
         response.stream = [](const StreamWriter&) -> bool { throw std::runtime_error("boom"); };
         return response;
       }}};
  auto server = Server::Start({}, routes);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string base = absl::StrCat("http://127.0.0.1:", (*server)->port());

  // A producer that throws ends its body; the server goes on.
  HttpRequestOptions get;
  get.method = "GET";
  auto thrown = HttpRequest(base + "/throws", "", get);
  ASSERT_TRUE(thrown.ok()) << thrown.status();
  EXPECT_EQ(thrown->body, "");

  // A client that gives up: its stream notices at the next write and stops.
  HttpRequestOptions impatient = get;
  impatient.timeout = std::chrono::milliseconds(300);
  EXPECT_FALSE(HttpRequest(base + "/forever", "", impatient).ok()) << "the body never ends";
  for (int i = 0; i < 500 && !left->load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(left->load()) << "the stream kept going after its client left";

  // A client still reading when the server stops: the destructor ends its stream and returns.
  std::thread reader([&] { (void)HttpRequest(base + "/forever", "", get); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server->reset();
  reader.join();
}

TEST(HttpServerStartTest, UnusableTlsFilesAndAddressesAreNamed) {
  ServerOptions half;
  half.tls_cert_file = "/nonexistent/cert.pem";
  EXPECT_FALSE(Server::Start(half, {}).ok()) << "a certificate without a key";

  ServerOptions missing;
  missing.tls_cert_file = "/nonexistent/cert.pem";
  missing.tls_key_file = "/nonexistent/key.pem";
  auto tls = Server::Start(missing, {});
  ASSERT_FALSE(tls.ok());
  EXPECT_TRUE(absl::StrContains(tls.status().message(), "/nonexistent/cert.pem")) << tls.status();

  ServerOptions bad;
  bad.listen = "127.0.0.1";
  EXPECT_FALSE(Server::Start(bad, {}).ok());
  ServerOptions taken;
  auto first = Server::Start(taken, {});
  ASSERT_TRUE(first.ok());
  taken.listen = absl::StrCat("127.0.0.1:", (*first)->port());
  auto second = Server::Start(taken, {});
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::StrContains(second.status().message(), taken.listen)) << second.status();
}

}  // namespace
}  // namespace leadrouter::http
