#pragma once

#include <cstddef>

#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter::api {

// leadrouter.v1.RouterService on gRPC's callback API. StreamAssignments registers a sink on the
// hub; each stream has a queue of at most `subscriber_queue_limit` assignments and exactly one
// write in flight. A subscriber that falls further behind is ended with RESOURCE_EXHAUSTED
// (the durable copy is the Kafka topic), so one slow CRM never stalls routing or other
// subscribers. Reactions never block. Thread-safe; must outlive the grpc::Server using it.
class RouterServiceImpl final : public v1::RouterService::CallbackService {
 public:
  RouterServiceImpl(AssignmentHub& hub, size_t subscriber_queue_limit);

  grpc::ServerWriteReactor<v1::AssignmentEvent>* StreamAssignments(
      grpc::CallbackServerContext* context, const v1::StreamAssignmentsRequest* request) override;

 private:
  AssignmentHub& hub_;
  size_t subscriber_queue_limit_;
};

}  // namespace leadrouter::api
