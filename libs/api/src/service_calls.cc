#include "leadrouter/api/service_calls.h"

#include "absl/strings/str_cat.h"
#include "leadrouter/api/error_text.h"

namespace leadrouter::api {
namespace {

template <typename Request>
absl::Status RequireIds(const Request& request) {
  if (request.lead_id().empty()) return absl::InvalidArgumentError("lead_id: required");
  if (request.rep_id().empty()) return absl::InvalidArgumentError("rep_id: required");
  return absl::OkStatus();
}

// Explain and ListClaims: either scope will do.
absl::Status RequireStreamOrAct(const Authorizer& authorizer, const Principal& caller) {
  if (caller.Has(Scope::kAct) || caller.Has(Scope::kStream)) return absl::OkStatus();
  return authorizer.Require(caller, Scope::kAct);
}

}  // namespace

bool StreamFilter::Wants(const v1::AssignmentEvent& event) const {
  if (!reps.empty() && !reps.count(event.rep_id())) return false;
  if (!pools.empty() && !pools.count(event.pool())) return false;
  if (principal.Unrestricted()) return true;
  // A restricted token sees only its reps' events (not the unassigned queue).
  return !event.rep_id().empty() && principal.MayActFor(event.rep_id(), config->routing);
}

ServiceCalls::ServiceCalls(LeadOperations& operations, const Authorizer& authorizer)
    : operations_(operations), authorizer_(authorizer) {}

absl::Status ServiceCalls::RequireFor(const Principal& caller, Scope scope,
                                      const std::string& rep_id) const {
  if (absl::Status has = authorizer_.Require(caller, scope); !has.ok()) return has;
  if (rep_id.empty()) return absl::OkStatus();
  return authorizer_.RequireActFor(caller, rep_id, operations_.CurrentConfig()->routing);
}

template <typename Request>
absl::StatusOr<v1::LeadUpdate> ServiceCalls::Act(
    const Principal& caller, const Request& request,
    absl::StatusOr<v1::LeadUpdate> (LeadOperations::*operation)(const Request&,
                                                                const std::string&)) {
  if (absl::Status ids = RequireIds(request); !ids.ok()) return ids;
  if (absl::Status may = RequireFor(caller, Scope::kAct, request.rep_id()); !may.ok()) return may;
  return (operations_.*operation)(request, caller.name);
}

absl::StatusOr<v1::LeadUpdate> ServiceCalls::Accept(const Principal& caller,
                                                    const v1::AcceptLeadRequest& request) {
  return Act(caller, request, &LeadOperations::Accept);
}

absl::StatusOr<v1::LeadUpdate> ServiceCalls::Return(const Principal& caller,
                                                    const v1::ReturnLeadRequest& request) {
  return Act(caller, request, &LeadOperations::Return);
}

absl::StatusOr<v1::LeadUpdate> ServiceCalls::Convert(const Principal& caller,
                                                     const v1::ConvertLeadRequest& request) {
  return Act(caller, request, &LeadOperations::Convert);
}

absl::StatusOr<v1::AssignmentEvent> ServiceCalls::Explain(const Principal& caller,
                                                          const v1::ExplainLeadRequest& request) {
  if (request.lead_id().empty()) return absl::InvalidArgumentError("lead_id: required");
  if (absl::Status may = RequireStreamOrAct(authorizer_, caller); !may.ok()) return may;
  auto explained = operations_.Explain(request.lead_id());
  if (!explained.ok()) return explained.status();
  if (!caller.Unrestricted() &&
      (explained->rep_id().empty() ||
       !caller.MayActFor(explained->rep_id(), operations_.CurrentConfig()->routing))) {
    return absl::PermissionDeniedError(
        absl::StrCat(caller.name, " may not see lead ", QuoteForError(request.lead_id())));
  }
  return explained;
}

absl::StatusOr<v1::ClaimAccountsResponse> ServiceCalls::ClaimAccounts(
    const Principal& caller, const v1::ClaimAccountsRequest& request) {
  if (request.rep_id().empty()) return absl::InvalidArgumentError("rep_id: required");
  if (absl::Status may = RequireFor(caller, Scope::kAct, request.rep_id()); !may.ok()) return may;
  return operations_.ClaimAccounts(request, caller.name);
}

absl::StatusOr<v1::ListClaimsResponse> ServiceCalls::ListClaims(
    const Principal& caller, const v1::ListClaimsRequest& request) {
  if (absl::Status may = RequireStreamOrAct(authorizer_, caller); !may.ok()) return may;
  const auto config = operations_.CurrentConfig();
  for (int i = 0; i < request.rep_ids_size(); ++i) {
    if (request.rep_ids(i).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("rep_ids[", i, "]: is empty"));
    }
    if (absl::Status may = authorizer_.RequireActFor(caller, request.rep_ids(i), config->routing);
        !may.ok()) {
      return may;
    }
  }
  // A token limited to some reps sees only their claims and conflicts.
  v1::ListClaimsRequest narrowed = request;
  if (request.rep_ids().empty() && !caller.Unrestricted()) {
    for (const config::RepConfig& rep : config->reps) {
      if (caller.MayActFor(rep.id, config->routing)) narrowed.add_rep_ids(rep.id);
    }
    if (narrowed.rep_ids().empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.name, " may not see any configured rep's claims"));
    }
  }
  return operations_.ListClaims(narrowed);
}

absl::StatusOr<v1::RepLoad> ServiceCalls::SetAvailability(
    const Principal& caller, const v1::SetAvailabilityRequest& request) {
  if (absl::Status may = authorizer_.Require(caller, Scope::kAdmin); !may.ok()) return may;
  return operations_.SetAvailability(request);
}

absl::StatusOr<v1::RepLoad> ServiceCalls::SetCapacity(const Principal& caller,
                                                      const v1::SetCapacityRequest& request) {
  if (absl::Status may = authorizer_.Require(caller, Scope::kAdmin); !may.ok()) return may;
  return operations_.SetCapacity(request);
}

absl::StatusOr<v1::ListUnassignedResponse> ServiceCalls::ListUnassigned(
    const Principal& caller, const v1::ListUnassignedRequest& request) {
  if (absl::Status may = authorizer_.Require(caller, Scope::kAdmin); !may.ok()) return may;
  if (request.limit() < 0 || request.limit() > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit: must be between 0 and 1000, got ", request.limit()));
  }
  return operations_.ListUnassigned(request.limit() == 0 ? 100 : request.limit());
}

absl::StatusOr<v1::ListRepLoadResponse> ServiceCalls::ListRepLoad(const Principal& caller) {
  if (absl::Status may = authorizer_.Require(caller, Scope::kAdmin); !may.ok()) return may;
  return operations_.ListRepLoad();
}

absl::StatusOr<v1::ReloadConfigResponse> ServiceCalls::ReloadConfig(const Principal& caller) {
  if (absl::Status may = authorizer_.Require(caller, Scope::kAdmin); !may.ok()) return may;
  return operations_.ReloadConfig();
}

absl::StatusOr<v1::ClaimConflict> ServiceCalls::ResolveClaimConflict(
    const Principal& caller, const v1::ResolveClaimConflictRequest& request) {
  if (absl::Status may = authorizer_.Require(caller, Scope::kAdmin); !may.ok()) return may;
  return operations_.ResolveClaimConflict(request, caller.name);
}

absl::StatusOr<StreamFilter> ServiceCalls::FilterFor(
    const Principal& caller, const v1::StreamAssignmentsRequest& request) const {
  if (absl::Status may = authorizer_.Require(caller, Scope::kStream); !may.ok()) return may;
  StreamFilter filter;
  filter.config = operations_.CurrentConfig();
  for (int i = 0; i < request.rep_ids_size(); ++i) {
    if (request.rep_ids(i).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("rep_ids[", i, "]: is empty"));
    }
    if (absl::Status may =
            authorizer_.RequireActFor(caller, request.rep_ids(i), filter.config->routing);
        !may.ok()) {
      return may;
    }
    filter.reps.insert(request.rep_ids(i));
  }
  for (int i = 0; i < request.pools_size(); ++i) {
    if (request.pools(i).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("pools[", i, "]: is empty"));
    }
    filter.pools.insert(request.pools(i));
  }
  filter.principal = caller;
  return filter;
}

}  // namespace leadrouter::api
