#pragma once

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/statusor.h"
#include "leadrouter/kafka/message.h"
#include "leadrouter/v1/assignment.pb.h"

// The Kafka messages the daemon publishes for decided leads, shared by the pipeline (nurture
// records, replays), the lead service (recycled leads) and the outbox (assignments). Pure
// functions: thread-safe.
namespace leadrouter::pipeline {

// On leads.assignments: "true" when the message re-publishes a stored assignment.
inline constexpr char kHeaderReplay[] = "x-leadrouter-replay";

// On leads.assignments: the message's AssignmentEvent.message_id (what consumers dedupe on).
inline constexpr char kHeaderMessageId[] = "x-leadrouter-message-id";

// `event` for the assignments `topic`: JsonMessage keyed by its lead id, plus the message-id
// header. The same event always gives the same bytes (a replay re-publishes them exactly).
absl::StatusOr<kafka::OutgoingMessage> AssignmentMessage(const std::string& topic,
                                                         const v1::AssignmentEvent& event,
                                                         bool replayed = false);

// `payload` as protobuf JSON (field names as in the .proto) for `topic`, keyed by lead id, with
// content-type and x-leadrouter-event-id headers (and x-leadrouter-replay when `replayed`).
absl::StatusOr<kafka::OutgoingMessage> JsonMessage(const std::string& topic,
                                                   const std::string& lead_id,
                                                   const std::string& event_id,
                                                   const google::protobuf::Message& payload,
                                                   bool replayed = false);

}  // namespace leadrouter::pipeline
