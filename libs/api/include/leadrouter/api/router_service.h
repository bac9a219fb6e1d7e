#pragma once

#include <cstddef>

#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/api/auth.h"
#include "leadrouter/api/executor.h"
#include "leadrouter/api/lead_operations.h"
#include "leadrouter/api/service_calls.h"
#include "leadrouter/v1/admin_service.grpc.pb.h"
#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter::api {

// leadrouter.v1.RouterService on gRPC's callback API.
//
// StreamAssignments registers a sink on the hub (fed from the shared assignment log, so every
// instance's subscribers see every instance's events); with after_cursor it first replays the
// log after that cursor, holding live events meanwhile and dropping those already replayed, so
// a reconnecting CRM misses nothing and sees nothing twice. Each stream has a queue of at most
// `subscriber_queue_limit` live events and exactly one write in flight; a subscriber that falls
// further behind is ended with RESOURCE_EXHAUSTED (reconnect with the last cursor), so one slow
// CRM never stalls routing or other subscribers. Stream events are filtered to the reps the
// caller may see.
//
// The unary RPCs authenticate on the callback thread, then run the call (ServiceCalls: the
// scope and rep checks, shared with the console's JSON endpoints, then a few Redis round trips
// and one Kafka produce) on the service's own executor, never on gRPC's callback pool; so does
// the resume backlog. Errors map to gRPC codes with a message naming the field. Thread-safe;
// must outlive the grpc::Server using it.
class RouterServiceImpl final : public v1::RouterService::CallbackService {
 public:
  // Threads for the RPCs' Redis and Kafka work (each call holds one for a few round trips).
  static constexpr size_t kWorkerThreads = 4;

  RouterServiceImpl(AssignmentHub& hub, size_t subscriber_queue_limit, ServiceCalls& calls);

  grpc::ServerWriteReactor<v1::AssignmentEvent>* StreamAssignments(
      grpc::CallbackServerContext* context, const v1::StreamAssignmentsRequest* request) override;
  grpc::ServerUnaryReactor* AcceptLead(grpc::CallbackServerContext* context,
                                       const v1::AcceptLeadRequest* request,
                                       v1::LeadUpdate* response) override;
  grpc::ServerUnaryReactor* ReturnLead(grpc::CallbackServerContext* context,
                                       const v1::ReturnLeadRequest* request,
                                       v1::LeadUpdate* response) override;
  grpc::ServerUnaryReactor* ConvertLead(grpc::CallbackServerContext* context,
                                        const v1::ConvertLeadRequest* request,
                                        v1::LeadUpdate* response) override;
  grpc::ServerUnaryReactor* ExplainLead(grpc::CallbackServerContext* context,
                                        const v1::ExplainLeadRequest* request,
                                        v1::AssignmentEvent* response) override;
  grpc::ServerUnaryReactor* ClaimAccounts(grpc::CallbackServerContext* context,
                                          const v1::ClaimAccountsRequest* request,
                                          v1::ClaimAccountsResponse* response) override;
  grpc::ServerUnaryReactor* ListClaims(grpc::CallbackServerContext* context,
                                       const v1::ListClaimsRequest* request,
                                       v1::ListClaimsResponse* response) override;

 private:
  AssignmentHub& hub_;
  size_t subscriber_queue_limit_;
  ServiceCalls& calls_;
  // Redis / Kafka work of the RPCs; declared last so it is joined before the rest goes away.
  Executor executor_{kWorkerThreads};
};

// leadrouter.v1.AdminService: every method needs the admin scope. Thread-safe.
class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceCalls& calls);

  grpc::ServerUnaryReactor* SetAvailability(grpc::CallbackServerContext* context,
                                            const v1::SetAvailabilityRequest* request,
                                            v1::RepLoad* response) override;
  grpc::ServerUnaryReactor* SetCapacity(grpc::CallbackServerContext* context,
                                        const v1::SetCapacityRequest* request,
                                        v1::RepLoad* response) override;
  grpc::ServerUnaryReactor* ListUnassigned(grpc::CallbackServerContext* context,
                                           const v1::ListUnassignedRequest* request,
                                           v1::ListUnassignedResponse* response) override;
  grpc::ServerUnaryReactor* ListRepLoad(grpc::CallbackServerContext* context,
                                        const v1::ListRepLoadRequest* request,
                                        v1::ListRepLoadResponse* response) override;
  grpc::ServerUnaryReactor* ReloadConfig(grpc::CallbackServerContext* context,
                                         const v1::ReloadConfigRequest* request,
                                         v1::ReloadConfigResponse* response) override;
  grpc::ServerUnaryReactor* ResolveClaimConflict(grpc::CallbackServerContext* context,
                                                 const v1::ResolveClaimConflictRequest* request,
                                                 v1::ClaimConflict* response) override;

 private:
  ServiceCalls& calls_;
  Executor executor_{2};
};

}  // namespace leadrouter::api
