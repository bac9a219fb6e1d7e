#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/config/reloader.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/decide/enricher.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/metrics/metrics.h"
#include "leadrouter/pipeline/assigner.h"
#include "leadrouter/pipeline/batch_queue.h"
#include "leadrouter/pipeline/dead_letter.h"
#include "leadrouter/pipeline/messages.h"
#include "leadrouter/pipeline/recovery.h"
#include "leadrouter/store/assignment_store.h"

namespace leadrouter::pipeline {

// The consume → map/decode → validate → qualify → assign → publish → commit loop.
//
// Records are read from the inbound topic and every source's own topic; each is decoded by its
// source (DecodeRecord: the x-leadrouter-source header, else the topic, else a native
// LeadEvent), so one record may carry several events. Guarantees: every consumed event ends
// as exactly one of an assignment, a nurture record (not qualified) or a dead letter, new or
// replayed, where an unmappable record is one event (its dead letter) and a record its source's
// filter drops is none (counted as "filtered" by source);
// a batch's offsets are committed only after its Redis writes are done and its Kafka outputs
// (dead letters, nurture records, replays) are acknowledged (acks=all). New assignments are not
// produced here: the Redis commit appends them to the shared assignment log, which feeds stream
// subscribers (LogTailer) and the assignments topic (OutboxForwarder).
// A failure before the commit retries the same batch with capped backoff; a crash re-consumes
// it, and event-id idempotency makes the replay harmless.
// Run() overlaps batches: while one batch's outputs are being published and acknowledged (on a
// publisher thread), the next batch is decoded, decided and committed to Redis; offsets are
// still committed batch by batch, in order, each only after its own outputs are acknowledged.
// The config is read from `configs` at the start of every batch, so a reload applies to the
// next batch and never to half of one; each config it switches to gets its lead metric series
// created at 0 (PrecreateLeadSeries). Run() samples the consumer's per-partition lag about every
// second, from librdkafka's caches.
// Thread-compatible: Run() on one thread; the dependencies must outlive the pipeline.
class Pipeline {
 public:
  Pipeline(const config::ConfigReloader& configs, kafka::Consumer& consumer,
           kafka::Producer& producer, store::AssignmentStore& store,
           metrics::PipelineMetrics& metrics, const core::Clock& clock);

  ~Pipeline();

  // Polls and processes until `stop` is set; a batch in progress when it is set is abandoned
  // uncommitted if it cannot finish. Returns non-OK only on a fatal consumer error.
  //
  // Backpressure (Recovery): when a batch fails (Redis unreachable or slow, Kafka not
  // acknowledging), the consumer's partitions are paused and the same batch is retried with
  // capped exponential backoff; meanwhile the consumer keeps polling so it stays in its group,
  // and anything it still returns is kept for the next batches (BatchQueue; memory stays bounded
  // by what was fetched before the pause). The first success resumes consumption. Pending
  // records of a partition revoked meanwhile are dropped (see BatchQueue). `on_paused`
  // (optional) hears each change.
  absl::Status Run(const std::atomic<bool>& stop);
  void OnPausedChange(std::function<void(bool paused)> on_paused) {
    on_paused_ = std::move(on_paused);
  }
  // What fetches the records of enriching sources (a HubSpot webhook event's contact); call
  // before Run. Without one, such a record fails its batch (FailedPrecondition) and is retried,
  // never dead-lettered. A transient fetch failure fails the batch the same way: the pipeline
  // backs off and retries it (the records' sender delivered them correctly).
  void SetEnricher(decide::Enricher* enricher) { enricher_ = enricher; }

 private:
  // Where one output of a batch comes from, so a message Kafka refuses for good can be recorded.
  struct OutputOrigin {
    enum class Kind { kDeadLetter, kAssignment, kNurture };
    Kind kind = Kind::kDeadLetter;
    const kafka::ConsumedMessage* input = nullptr;  // a dead letter's input (in `messages`)
    std::string event_id;                           // when known
  };
  // A batch whose Redis writes are done and whose outputs are built, not yet published.
  struct PreparedBatch {
    std::vector<kafka::ConsumedMessage> messages;
    std::vector<kafka::OutgoingMessage> outputs;
    std::vector<OutputOrigin> origins;  // origins[i] belongs to outputs[i]
    std::vector<LeadResult> results;
    std::vector<std::string> result_sources;  // the source label of each of `results`
    std::vector<std::string> rejected_reasons;
    std::vector<std::string> rejected_sources;  // the source label of each rejection
    // Events this batch consumed: a native record is one, a mapped record as many as it mapped
    // to, an unmappable record one (its dead letter), a record its source filtered out none.
    size_t consumed_events = 0;
    std::vector<std::pair<std::string, size_t>> filtered;  // (source, records dropped)
    std::chrono::steady_clock::time_point started;
    core::TimePoint committed_at{};                // when its outcomes were durable in Redis
    std::shared_ptr<const config::Config> config;  // the one it was decided with
  };
  // Publishes one batch's outputs at a time on its own thread (defined in pipeline.cc).
  class BackgroundPublisher;

  // Decodes, validates, decides and commits `prepared.messages` to Redis; builds the outputs.
  absl::Status Prepare(PreparedBatch& prepared);
  // Notes the events `prepared` decided anew, so their retry counts them as new, not replays.
  void RememberAssigned(const PreparedBatch& prepared);
  // Waits for the batch in flight (if any) and finishes it; a failed one goes back to the queue.
  absl::Status Land();
  // Publishes the outputs on this thread, waits for their acknowledgements, then Finish.
  absl::Status PublishAndFinish(const PreparedBatch& prepared);
  // After the outputs' publication ended with `produced`: on success records the outputs Kafka
  // refused for good (`refused`), commits the offsets and counts the outcomes; on failure
  // remembers which events this process assigned (so the retry does not count them as replays)
  // and returns the failure.
  absl::Status Finish(const PreparedBatch& prepared, const absl::Status& produced,
                      const std::vector<kafka::RefusedMessage>& refused);
  // Records messages Kafka will never accept (kafka::RefusedMessage) in Redis, counts and logs
  // them, so the partition moves on instead of retrying them forever.
  absl::Status RecordUndeliverable(const std::vector<OutputOrigin>& origins,
                                   const std::vector<kafka::OutgoingMessage>& outputs,
                                   const std::vector<kafka::RefusedMessage>& refused);
  // Switches to the reloader's current config if it changed.
  void UseCurrentConfig();
  // Routes queued leads that have an eligible rep now and publishes their assignments.
  absl::Status RetryQueuedLeads();
  // At most every kLagSampleInterval: the consumer's per-partition lag (local caches only, no
  // broker round trip) into leadrouter_consumer_lag_messages, dropping revoked partitions.
  void SampleConsumerLag();
  static constexpr std::chrono::seconds kLagSampleInterval{1};

  const config::ConfigReloader& configs_;
  std::shared_ptr<const config::Config> config_;
  kafka::Consumer& consumer_;
  kafka::Producer& producer_;
  metrics::PipelineMetrics& metrics_;
  store::AssignmentStore& store_;
  const core::Clock& clock_;
  std::unique_ptr<Assigner> assigner_;
  // Event ids this process assigned in an earlier, failed attempt of the current batch, so a
  // retry that finds them stored still counts them as new assignments, not replays.
  std::unordered_set<std::string> assigned_in_failed_attempt_;
  std::function<void(bool)> on_paused_;
  decide::Enricher* enricher_ = nullptr;
  // The batch whose outputs the publisher thread is publishing; committed when it lands.
  // Declared before publisher_, whose destructor finishes a publication of its outputs.
  std::unique_ptr<PreparedBatch> in_flight_;
  std::unique_ptr<BackgroundPublisher> publisher_;
  // What was taken from the consumer and not finished, in processing order.
  BatchQueue queue_;
  // Pause, backoff and resume after a failed batch.
  Recovery recovery_;
  // Run()'s stop flag: a publication waiting for Kafka gives up when it is set.
  const std::atomic<bool>* stop_ = nullptr;
  std::chrono::steady_clock::time_point next_lag_sample_{};
};

}  // namespace leadrouter::pipeline
