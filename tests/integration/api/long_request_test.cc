// Huge request fields against a real GrpcServer with the real RouterService and LeadService on
// a real Redis: the answer is the error the request deserves (NOT_FOUND, INVALID_ARGUMENT)
// with a short message, never the field echoed back whole. An echoed 100 KB field made the
// grpc-message trailer exceed the client's metadata limit, and the client saw
// RESOURCE_EXHAUSTED (leadctl: exit 4, "retry") instead.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/api/auth.h"
#include "leadrouter/api/grpc_server.h"
#include "leadrouter/api/router_service.h"
#include "leadrouter/config/config.h"
#include "leadrouter/config/reloader.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/metrics/metrics.h"
#include "leadrouter/pipeline/lead_service.h"
#include "leadrouter/testing/redis_fixture.h"
#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;

constexpr size_t kHuge = 100 * 1024;
constexpr size_t kShort = 300;

class LongRequestTest : public testing::RedisFixture {
 protected:
  void SetUp() override {
    RedisFixture::SetUp();
    if (HasFatalFailure()) return;
    ::setenv("LEADROUTER_TEST_LONG_REQUEST_KEY", "long-request-test-key-0123456789", 1);
    const std::string path =
        ::testing::TempDir() + "/long-request-" + std::to_string(::getpid()) + ".yaml";
    std::ofstream(path, std::ios::trunc)
        << "kafka: {bootstrap_servers: \"127.0.0.1:1\"}\n"
           "redis: {port: "
        << options_.port
        << "}\n"
           "dedupe: {hmac_key_env: LEADROUTER_TEST_LONG_REQUEST_KEY}\n"
           "reps: [{id: rep-ada}, {id: rep-bo}]\n";
    auto cfg = config::LoadConfigFile(path);
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    configs_ = std::make_unique<config::ConfigReloader>(
        path, std::make_shared<const config::Config>(*std::move(cfg)));
    // Nothing here reaches Kafka (every call fails before a publish); librdkafka connects lazily.
    auto producer = kafka::Producer::Create({"127.0.0.1:1", {}});
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = std::move(*producer);
    leads_ = std::make_unique<pipeline::LeadService>(*configs_, options_, *producer_, metrics_,
                                                     core::SystemClock::Get());
    calls_ = std::make_unique<api::ServiceCalls>(*leads_, authorizer_);
    router_ = std::make_unique<api::RouterServiceImpl>(hub_, 100, *calls_);
    auto server = api::GrpcServer::Start("127.0.0.1:0", {router_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::RouterService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown(1s);
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + 10s);
    return context;
  }

  std::unique_ptr<config::ConfigReloader> configs_;
  std::unique_ptr<kafka::Producer> producer_;
  metrics::PipelineMetrics metrics_;
  api::AssignmentHub hub_;
  const api::Authorizer authorizer_{std::vector<config::GrpcToken>{}};
  std::unique_ptr<pipeline::LeadService> leads_;
  std::unique_ptr<api::ServiceCalls> calls_;
  std::unique_ptr<api::RouterServiceImpl> router_;
  std::unique_ptr<api::GrpcServer> server_;
  std::unique_ptr<v1::RouterService::Stub> stub_;
};

TEST_F(LongRequestTest, ExplainLeadWithAHugeLeadIdIsNotFoundBriefly) {
  v1::ExplainLeadRequest request;
  request.set_lead_id(std::string(kHuge, 'L'));
  v1::AssignmentEvent response;
  const grpc::Status status = stub_->ExplainLead(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_LT(status.error_message().size(), kShort) << status.error_message();
}

TEST_F(LongRequestTest, AcceptLeadWithHugeIdsIsRefusedBriefly) {
  v1::AcceptLeadRequest request;
  request.set_lead_id(std::string(kHuge, 'L'));
  request.set_rep_id("rep-ada");
  v1::LeadUpdate response;
  grpc::Status status = stub_->AcceptLead(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_LT(status.error_message().size(), kShort) << status.error_message();

  request.set_lead_id("lead-1");
  request.set_rep_id(std::string(kHuge, 'R'));
  status = stub_->AcceptLead(Context().get(), request, &response);
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::NOT_FOUND ||
              status.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_code() << ": " << status.error_message();
  EXPECT_LT(status.error_message().size(), kShort) << status.error_message();
}

TEST_F(LongRequestTest, StreamAssignmentsWithAHugeCursorIsInvalidBriefly) {
  v1::StreamAssignmentsRequest request;
  request.set_after_cursor(std::string(kHuge, '9'));
  auto context = Context();
  auto reader = stub_->StreamAssignments(context.get(), request);
  v1::AssignmentEvent event;
  EXPECT_FALSE(reader->Read(&event));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_LT(status.error_message().size(), kShort) << status.error_message();
  EXPECT_EQ(status.error_message().rfind("after_cursor: \"99999", 0), 0u) << status.error_message();
  EXPECT_NE(status.error_message().find("(102400 bytes) is not a cursor"), std::string::npos)
      << status.error_message();
}

TEST_F(LongRequestTest, ClaimAccountsWithAHugeDomainIsInvalidBriefly) {
  v1::ClaimAccountsRequest request;
  request.set_rep_id("rep-ada");
  request.add_domains(std::string(kHuge, 'd') + ".com");
  v1::ClaimAccountsResponse response;
  grpc::Status status = stub_->ClaimAccounts(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_LT(status.error_message().size(), kShort) << status.error_message();
  EXPECT_NE(status.error_message().find("domains[0]: \"ddd"), std::string::npos)
      << status.error_message();

  // A long single label: under the input bound, but no DNS name.
  request.clear_domains();
  request.add_domains(std::string(1500, 'e') + ".com");
  status = stub_->ClaimAccounts(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_LT(status.error_message().size(), kShort) << status.error_message();

  request.clear_domains();
  request.add_domains("acme.com");
  request.set_rep_id(std::string(kHuge, 'R'));
  status = stub_->ClaimAccounts(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_LT(status.error_message().size(), kShort) << status.error_message();
}

}  // namespace
}  // namespace leadrouter
