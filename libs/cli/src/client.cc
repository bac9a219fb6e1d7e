#include "leadrouter/cli/client.h"

#include <grpcpp/client_context.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadrouter/cli/exit_code.h"
#include "leadrouter/cli/format.h"

namespace leadrouter::cli {
namespace {

namespace v1 = leadrouter::v1;

}  // namespace

Client::Client(std::shared_ptr<grpc::ChannelInterface> channel, CallOptions options,
               std::ostream& out, std::ostream& err)
    : router_(v1::RouterService::NewStub(channel)),
      admin_(v1::AdminService::NewStub(channel)),
      options_(std::move(options)),
      out_(out),
      err_(err) {}

void Client::Prepare(grpc::ClientContext& context, bool unary) const {
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
  if (unary && options_.timeout > absl::ZeroDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  }
}

int Client::Fail(const grpc::Status& status, const std::string& hint) {
  err_ << ErrorLine(status) << hint << std::endl;
  return ExitCodeFor(status.error_code());
}

int Client::PrintJson(const google::protobuf::Message& message) {
  absl::StatusOr<std::string> line = ToJsonLine(message);
  if (!line.ok()) {
    err_ << "leadctl: " << line.status().message() << std::endl;
    return kExitFailure;
  }
  out_ << *line << std::endl;
  return kExitOk;
}

int Client::Watch(const WatchOptions& watch) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/false);
  if (watch.duration > absl::ZeroDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + watch.duration));
  }
  v1::StreamAssignmentsRequest request;
  for (const auto& rep : watch.reps) request.add_rep_ids(rep);
  for (const auto& pool : watch.pools) request.add_pools(pool);
  request.set_after_cursor(watch.after_cursor);

  auto reader = router_->StreamAssignments(&context, request);
  v1::AssignmentEvent event;
  int64_t received = 0;
  std::string last_cursor = watch.after_cursor;
  while ((watch.count <= 0 || received < watch.count) && reader->Read(&event)) {
    ++received;
    if (!event.cursor().empty()) last_cursor = event.cursor();
    if (options_.json) {
      if (const int code = PrintJson(event); code != kExitOk) {
        context.TryCancel();
        (void)reader->Finish();
        return code;
      }
    } else {
      out_ << WatchLine(event) << std::endl;  // flushed: a pipe reader sees each event at once
    }
  }
  if (watch.count > 0 && received >= watch.count) {
    context.TryCancel();
    (void)reader->Finish();  // CANCELLED, as asked; the call must still be finished
    return kExitOk;
  }
  const grpc::Status status = reader->Finish();
  if (status.ok()) return kExitOk;
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      watch.duration > absl::ZeroDuration()) {
    return kExitOk;  // --timeout passed, as asked
  }
  return Fail(status, last_cursor.empty() ? "" : " (resume with --after " + last_cursor + ")");
}

int Client::Accept(const std::string& lead_id, const std::string& rep_id) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::AcceptLeadRequest request;
  request.set_lead_id(lead_id);
  request.set_rep_id(rep_id);
  v1::LeadUpdate update;
  const grpc::Status status = router_->AcceptLead(&context, request, &update);
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(update);
  out_ << RenderLeadUpdate(update) << std::flush;
  return kExitOk;
}

int Client::Return(const std::string& lead_id, const std::string& rep_id, v1::ReturnReason reason,
                   const std::string& note) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::ReturnLeadRequest request;
  request.set_lead_id(lead_id);
  request.set_rep_id(rep_id);
  request.set_reason(reason);
  request.set_note(note);
  v1::LeadUpdate update;
  const grpc::Status status = router_->ReturnLead(&context, request, &update);
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(update);
  out_ << RenderLeadUpdate(update) << std::flush;
  return kExitOk;
}

int Client::Convert(const std::string& lead_id, const std::string& rep_id,
                    std::optional<double> value, const std::string& note) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::ConvertLeadRequest request;
  request.set_lead_id(lead_id);
  request.set_rep_id(rep_id);
  if (value.has_value()) request.set_value(*value);
  request.set_note(note);
  v1::LeadUpdate update;
  const grpc::Status status = router_->ConvertLead(&context, request, &update);
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(update);
  out_ << RenderLeadUpdate(update) << std::flush;
  return kExitOk;
}

int Client::Explain(const std::string& lead_id) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::ExplainLeadRequest request;
  request.set_lead_id(lead_id);
  v1::AssignmentEvent event;
  const grpc::Status status = router_->ExplainLead(&context, request, &event);
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(event);
  out_ << RenderExplain(event) << std::flush;
  return kExitOk;
}

int Client::Reps() {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::ListRepLoadResponse response;
  const grpc::Status status = admin_->ListRepLoad(&context, v1::ListRepLoadRequest(), &response);
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(response);
  out_ << RenderRepLoads({response.reps().begin(), response.reps().end()}) << std::flush;
  return kExitOk;
}

int Client::Unassigned(int32_t limit) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::ListUnassignedRequest request;
  request.set_limit(limit);
  v1::ListUnassignedResponse response;
  const grpc::Status status = admin_->ListUnassigned(&context, request, &response);
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(response);
  out_ << RenderUnassigned(response) << std::flush;
  return kExitOk;
}

int Client::PrintRepLoad(const grpc::Status& status, const v1::RepLoad& load) {
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(load);
  out_ << RenderRepLoads({load}) << std::flush;
  return kExitOk;
}

int Client::SetPaused(const std::string& rep_id, bool paused) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::SetAvailabilityRequest request;
  request.set_rep_id(rep_id);
  request.set_paused(paused);
  v1::RepLoad load;
  return PrintRepLoad(admin_->SetAvailability(&context, request, &load), load);
}

int Client::OutOfOffice(const std::string& rep_id, absl::Time from, absl::Time to) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::SetAvailabilityRequest request;
  request.set_rep_id(rep_id);
  *request.mutable_out_of_office_from() = ToTimestamp(from);
  *request.mutable_out_of_office_to() = ToTimestamp(to);
  v1::RepLoad load;
  return PrintRepLoad(admin_->SetAvailability(&context, request, &load), load);
}

int Client::ClearOutOfOffice(const std::string& rep_id) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::SetAvailabilityRequest request;
  request.set_rep_id(rep_id);
  request.set_clear_out_of_office(true);
  v1::RepLoad load;
  return PrintRepLoad(admin_->SetAvailability(&context, request, &load), load);
}

int Client::SetCapacity(const std::string& rep_id, std::optional<int64_t> max_open_leads,
                        std::optional<int64_t> daily_cap) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::SetCapacityRequest request;
  request.set_rep_id(rep_id);
  if (max_open_leads.has_value()) request.set_max_open_leads(*max_open_leads);
  if (daily_cap.has_value()) request.set_daily_cap(*daily_cap);
  v1::RepLoad load;
  return PrintRepLoad(admin_->SetCapacity(&context, request, &load), load);
}

int Client::ClearCapacity(const std::string& rep_id) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::SetCapacityRequest request;
  request.set_rep_id(rep_id);
  request.set_clear(true);
  v1::RepLoad load;
  return PrintRepLoad(admin_->SetCapacity(&context, request, &load), load);
}

int Client::Reload() {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::ReloadConfigResponse response;
  const grpc::Status status = admin_->ReloadConfig(&context, v1::ReloadConfigRequest(), &response);
  if (!status.ok()) return Fail(status);
  const int code = options_.json ? PrintJson(response) : kExitOk;
  if (!options_.json) out_ << RenderReload(response) << std::flush;
  if (code != kExitOk) return code;
  if (response.result() == "refused") {
    err_ << "leadctl: the server refused the config; the old one stays live" << std::endl;
    return kExitRefused;
  }
  return kExitOk;
}

int Client::Claim(const std::string& rep_id, const std::vector<std::string>& domains,
                  const std::string& note) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::ClaimAccountsRequest request;
  request.set_rep_id(rep_id);
  for (const std::string& domain : domains) request.add_domains(domain);
  request.set_note(note);
  v1::ClaimAccountsResponse response;
  const grpc::Status status = router_->ClaimAccounts(&context, request, &response);
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(response);
  out_ << RenderClaimResults(response) << std::flush;
  return kExitOk;
}

int Client::Claims(const std::vector<std::string>& reps, const std::string& domain,
                   bool open_conflicts_only) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::ListClaimsRequest request;
  for (const std::string& rep : reps) request.add_rep_ids(rep);
  request.set_domain(domain);
  request.set_open_conflicts_only(open_conflicts_only);
  v1::ListClaimsResponse response;
  const grpc::Status status = router_->ListClaims(&context, request, &response);
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(response);
  out_ << RenderClaims(response, open_conflicts_only) << std::flush;
  return kExitOk;
}

int Client::Resolve(const std::string& domain, const std::string& claimant,
                    v1::ConflictDecision decision, uint32_t claimant_percent,
                    const std::string& note) {
  grpc::ClientContext context;
  Prepare(context, /*unary=*/true);
  v1::ResolveClaimConflictRequest request;
  request.set_domain(domain);
  request.set_claimant_rep_id(claimant);
  request.set_decision(decision);
  request.set_claimant_percent(claimant_percent);
  request.set_note(note);
  v1::ClaimConflict response;
  const grpc::Status status = admin_->ResolveClaimConflict(&context, request, &response);
  if (!status.ok()) return Fail(status);
  if (options_.json) return PrintJson(response);
  out_ << RenderResolvedConflict(response) << std::flush;
  return kExitOk;
}

}  // namespace leadrouter::cli
