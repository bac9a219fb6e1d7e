// leadctl: the command line for sales-ops and CRM admins. Talks to leadrouter over gRPC.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "leadrouter/v1/router_service.grpc.pb.h"

namespace {

namespace v1 = leadrouter::v1;

std::string Describe(const v1::AssignmentEvent& a) {
  using google::protobuf::util::TimeUtil;
  const v1::LeadEvent& lead = a.lead();
  std::string who = lead.person().first_name() + " " + lead.person().last_name();
  if (!lead.company().name().empty()) who += " (" + lead.company().name() + ")";
  return TimeUtil::ToString(a.assigned_at()) + "  " + a.lead_id() + "  -> " + a.rep_id() + "  " +
         who + "  [" + v1::LeadSourceKind_Name(lead.source_kind()) + "]  " + a.reason();
}

int Subscribe(const std::string& server, const std::vector<std::string>& reps, int count,
              int timeout_s, bool json) {
  auto channel = grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  auto stub = v1::RouterService::NewStub(channel);
  grpc::ClientContext context;
  if (timeout_s > 0) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
  }
  v1::StreamAssignmentsRequest request;
  for (const auto& rep : reps) request.add_rep_ids(rep);
  auto reader = stub->StreamAssignments(&context, request);
  v1::AssignmentEvent assignment;
  int received = 0;
  while ((count <= 0 || received < count) && reader->Read(&assignment)) {
    ++received;
    if (json) {
      std::string line;
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = true;
      (void)google::protobuf::util::MessageToJsonString(assignment, &line, options);
      std::cout << line << std::endl;
    } else {
      std::cout << Describe(assignment) << std::endl;
    }
  }
  if (count > 0 && received >= count) {
    context.TryCancel();
    (void)reader->Finish();  // CANCELLED, as asked; the call must still be finished
    return 0;
  }
  const grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && timeout_s > 0) return 0;
  if (!status.ok()) {
    std::cerr << "leadctl: stream ended: " << status.error_code() << " " << status.error_message()
              << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leadctl: talk to a leadrouter"};
  app.require_subcommand(1);
  std::string server = "127.0.0.1:50051";
  app.add_option("-s,--server", server, "leadrouter gRPC address host:port")->capture_default_str();

  auto* subscribe = app.add_subcommand("subscribe", "print assignments as they are made");
  std::vector<std::string> reps;
  int count = 0;
  int timeout_s = 0;
  bool json = false;
  subscribe->add_option("--rep", reps, "only assignments to this rep (repeatable)");
  subscribe->add_option("-n,--count", count,
                        "exit after this many assignments (0: run until stopped)");
  subscribe->add_option("--timeout", timeout_s, "exit after this many seconds (0: no limit)");
  subscribe->add_flag("--json", json, "one JSON object per line (protobuf JSON mapping)");
  CLI11_PARSE(app, argc, argv);

  if (subscribe->parsed()) return Subscribe(server, reps, count, timeout_s, json);
  return 2;
}
