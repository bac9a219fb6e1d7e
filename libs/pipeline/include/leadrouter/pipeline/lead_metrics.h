#pragma once

#include "leadrouter/config/config.h"
#include "leadrouter/metrics/metrics.h"
#include "leadrouter/v1/assignment.pb.h"

// How lead lifecycle events are counted, shared by the pipeline (new assignments, queued leads
// assigned later) and the lead service (accept, return, convert, expiry).
namespace leadrouter::pipeline {

// Counts one AssignmentEvent in leadrouter_lead_events_total (its status as the event), with
// leadrouter_lead_returns_total for returns, per-rep counts and time to accept. Campaign labels
// are allow-listed by config.metrics.campaigns ("other" / "none" otherwise). Thread-safe (as the
// metrics are).
void CountLeadEvent(metrics::PipelineMetrics& metrics, const config::Config& config,
                    const v1::AssignmentEvent& event);

}  // namespace leadrouter::pipeline
