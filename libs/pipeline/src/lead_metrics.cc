#include "leadrouter/pipeline/lead_metrics.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <string>

#include "leadrouter/pipeline/assigner.h"

namespace leadrouter::pipeline {
namespace {

// "ASSIGNMENT_STATUS_RETURNED" -> "returned".
std::string EventName(v1::AssignmentStatus status) {
  return ShortEnumName(v1::AssignmentStatus_Name(status), "ASSIGNMENT_STATUS_", /*lower=*/true);
}

// "RETURN_REASON_BAD_FIT" -> "bad_fit".
std::string ReasonName(v1::ReturnReason reason) {
  return ShortEnumName(v1::ReturnReason_Name(reason), "RETURN_REASON_", /*lower=*/true);
}

double SecondsBetween(const google::protobuf::Timestamp& from,
                      const google::protobuf::Timestamp& to) {
  using google::protobuf::util::TimeUtil;
  return static_cast<double>(TimeUtil::TimestampToNanoseconds(to) -
                             TimeUtil::TimestampToNanoseconds(from)) /
         1e9;
}

}  // namespace

void CountLeadEvent(metrics::PipelineMetrics& metrics, const config::Config& config,
                    const v1::AssignmentEvent& event) {
  metrics::PipelineMetrics::LeadLabels labels;
  labels.source_kind = ShortSourceKind(event.lead().source_kind());
  const std::string& campaign = event.lead().campaign();
  const auto& allowed = config.metrics.campaigns;
  labels.campaign = campaign.empty() ? "none"
                    : std::find(allowed.begin(), allowed.end(), campaign) != allowed.end()
                        ? campaign
                        : "other";
  labels.territory = event.territory();
  labels.pool = event.pool();
  labels.rep = event.rep_id();
  const bool returned = event.status() == v1::ASSIGNMENT_STATUS_RETURNED;
  metrics.LeadEvent(EventName(event.status()), labels,
                    returned ? ReasonName(event.return_reason()) : "");
  if (event.status() == v1::ASSIGNMENT_STATUS_ACCEPTED) {
    metrics.ObserveTimeToAccept(
        std::max(0.0, SecondsBetween(event.assigned_at(), event.event_time())));
  }
}

}  // namespace leadrouter::pipeline
