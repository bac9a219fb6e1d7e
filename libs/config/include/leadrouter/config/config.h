#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/core/ids.h"
#include "leadrouter/lead/decode.h"
#include "leadrouter/qualify/profile.h"
#include "leadrouter/qualify/qualifier.h"
#include "leadrouter/routing/engine.h"
#include "leadrouter/routing/rules.h"
#include "leadrouter/sources/mapping.h"

namespace leadrouter::config {

struct TopicsConfig {
  std::string inbound = "leads.inbound";
  std::string assignments = "leads.assignments";
  std::string deadletter = "leads.deadletter";
  std::string nurture = "leads.nurture";
};

struct KafkaConfig {
  static constexpr int64_t kDefaultProducerMessageMaxBytes = 1000000;  // librdkafka's
  // Room a dead letter needs beyond the event itself (its reason headers).
  static constexpr int64_t kDeadLetterHeadroomBytes = 65536;

  std::string bootstrap_servers;  // required
  std::string group_id = "leadrouter";
  TopicsConfig topics;
  int batch_max_messages = 500;
  // How long an idle poll waits for a batch's first event.
  std::chrono::milliseconds batch_max_wait{50};
  // Once a batch has its first event, how much longer it waits to fill. 0: it takes what is at
  // hand, so batches stay small (and fast) at low load and grow with the load.
  std::chrono::milliseconds batch_linger{0};
  // Events larger than this are dead-lettered without being decoded. A dead letter carries the
  // event and its reason headers, so this is at most producer_message_max_bytes -
  // kDeadLetterHeadroomBytes.
  int64_t max_event_bytes = 512 << 10;
  // Passed to librdkafka as-is (SASL/SSL, session.timeout.ms, ...), applied last.
  std::map<std::string, std::string> consumer_properties;
  std::map<std::string, std::string> producer_properties;
  // The producer's message.max.bytes: producer_properties' value when it sets one (an integer
  // 1000..1000000000), else librdkafka's default, which leadrouter sets explicitly.
  int64_t producer_message_max_bytes = kDefaultProducerMessageMaxBytes;
  std::chrono::milliseconds produce_timeout{30000};
};

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  // Never inline in the file: read from the environment variable named by `password_env` or
  // the file named by `password_file` (trailing newline stripped) when the config is loaded.
  std::string password;
  std::string password_source;  // "env:NAME", "file:PATH" or "" (no AUTH), for summaries
  std::string tenant = "default";
  std::chrono::milliseconds timeout{2000};
  // How long a processed event id stays remembered (redeliveries inside it are harmless).
  // At least dedupe.person_window: a person key points at a stored lead.
  std::chrono::seconds idempotency_ttl{std::chrono::hours(24 * 90)};
};

// Person dedupe and account matching (libs/dedupe). Off without a `dedupe` section: then only
// redeliveries of one event id are recognised.
struct DedupeConfig {
  bool enabled = false;
  // Keys the HMAC of every dedupe key; from hmac_key_env / hmac_key_file, never inline.
  std::string hmac_key;
  std::string hmac_key_source;  // "env:NAME" / "file:PATH", for summaries
  // A second lead of the same person (e-mail or phone) within the window joins the first.
  std::chrono::seconds person_window{std::chrono::hours(24 * 90)};
  // An account's owner is forgotten after this long without a new lead into the account.
  std::chrono::seconds account_owner_idle{std::chrono::hours(24 * 30)};
  std::string default_phone_region = "US";
  bool match_company_name = true;
  // Domains where "local+tag" is another mailbox than "local", so the tag stays in the e-mail's
  // dedupe key; everywhere else it is dropped (normalize::NormalizeEmail). Lower-cased, unique.
  std::vector<std::string> keep_plus_tags_domains;
};

// How inbound events are decoded (libs/lead).
// The HTTP front door, leadrouter-ingest (`ingest.http`; README "Webhook ingest"). The daemon
// validates it and otherwise ignores it.
struct IngestHttpConfig {
  std::string listen = "127.0.0.1:8088";
  // Prometheus metrics of the ingest process (not on the public listener).
  std::string metrics_listen = "127.0.0.1:9465";
  // HTTPS when both are set (PEM files).
  std::string tls_cert_file;
  std::string tls_key_file;
  // A non-loopback listen without TLS is refused unless this is set (e.g. behind an ingress
  // that terminates TLS).
  bool allow_insecure = false;
  // The base URL senders call, e.g. "https://leads.example.com": HubSpot signs the full URL it
  // called, which behind an ingress is not the one the ingest sees. Empty: rebuilt from the
  // request's Host (and X-Forwarded-Proto) headers.
  std::string public_url;
  size_t max_body_bytes = 1 << 20;
  int max_records_per_request = 1000;
  // The whole request, reading it and Kafka's acknowledgement included.
  std::chrono::milliseconds request_timeout{10000};
  // Requests in their Kafka phase at once; more are answered 503 at once.
  int max_concurrent_requests = 64;
  // Connections served at once (each is served on one worker thread, slow ones included).
  int worker_threads = 128;
  // A HubSpot v3 signature older than this is refused (HubSpot's own rule: 5 minutes).
  std::chrono::seconds max_signature_age{300};
  // The Retry-After of a 503.
  std::chrono::seconds retry_after{5};
};

struct IngestConfig {
  // JSON fields LeadEvent does not have: ignored, kept as attributes, or a dead letter
  // (lead::UnknownFields).
  lead::UnknownFields unknown_fields = lead::UnknownFields::kIgnore;
  IngestHttpConfig http;
};

// "ignore", "attributes", "reject": the config spelling of a policy.
const char* UnknownFieldsName(lead::UnknownFields policy);

// Account claims (`claims`): reps register target accounts by domain. Claims need dedupe on
// (an account is known by its domain's HMAC key).
struct ClaimsConfig {
  // How a claim on an account another rep owns is settled.
  enum class Policy { kFirstClaimWins, kManagerDecides, kShared };
  Policy policy = Policy::kFirstClaimWins;
  // A claimed account stays the rep's this long (renewed by claiming again; leads into the
  // account never shorten it).
  std::chrono::seconds ownership{std::chrono::hours(24 * 90)};
  // Policy kShared: the claimant's share of the credit, percent (the owners keep the rest).
  int shared_percent = 50;
};
// "first_claim_wins", "manager_decides", "shared".
const char* ClaimPolicyName(ClaimsConfig::Policy policy);

// TLS for the gRPC listener (`grpc.tls`). The PEM files are read when the config is loaded;
// off (plaintext) when cert_pem is empty.
struct GrpcTlsConfig {
  // Paths, for summaries.
  std::string cert_file, key_file, client_ca_file;
  std::string cert_pem;       // the server's certificate chain
  std::string key_pem;        // its private key: a secret, never logged
  std::string client_ca_pem;  // "" = client certificates are not requested
  // Refuse clients without a certificate signed by client_ca (needs client_ca_file). Without it
  // a client certificate, when one is presented, must still verify against client_ca.
  bool require_client_cert = false;
  bool enabled() const { return !cert_pem.empty(); }
};

// One bearer token from `grpc.auth.tokens_file` (see README "Configuration").
struct GrpcToken {
  std::string name;   // identifier, unique; callers show up as the actor "token:<name>"
  std::string token;  // the bearer secret: >= 16 printable bytes, unique, never logged
  // Each one of "stream" (StreamAssignments, ExplainLead, ListClaims), "act" (AcceptLead,
  // ReturnLead, ConvertLead, ClaimAccounts, ExplainLead, ListClaims), "admin" (AdminService).
  // At least one.
  std::vector<std::string> scopes;
  // The token may stream and act only for these reps or members of these pools (rep ids and
  // pool names of this config, in file order). Neither: every rep.
  std::vector<std::string> reps;
  std::vector<std::string> pools;
};

// Bearer-token authorization (`grpc.auth`). Off when `tokens` is empty (a configured file has
// at least one token): then every caller may do everything.
struct GrpcAuthConfig {
  std::string tokens_file;  // for summaries
  std::vector<GrpcToken> tokens;
  bool enabled() const { return !tokens.empty(); }
};

struct GrpcConfig {
  std::string listen = "127.0.0.1:50051";
  // Assignments buffered per StreamAssignments subscriber before it is cut off as too slow.
  int subscriber_queue_limit = 10000;
  GrpcTlsConfig tls;
  GrpcAuthConfig auth;
  // A non-loopback `listen` needs tls and auth, unless this is set (e.g. behind a mesh that
  // terminates mTLS and authorizes callers).
  bool allow_insecure = false;
};

// A lead's life after assignment (accept SLA, re-routing, recycling) and the shared event log.
struct LifecycleConfig {
  // Time an ASSIGNED lead has to be accepted before it expires and is re-routed; 0 = no SLA.
  std::chrono::seconds accept_sla{std::chrono::minutes(15)};
  std::map<std::string, std::chrono::seconds> pool_accept_sla;  // per pool, overrides accept_sla
  // Routing attempts (the first assignment included) before a returned or expired lead is
  // recycled to marketing on the nurture topic.
  int max_attempts = 3;
  // Events kept in the shared assignment log for StreamAssignments resume (approximate).
  int64_t stream_retention_events = 20000;

  // The accept SLA of leads assigned by `pool` (none: the default).
  std::chrono::seconds AcceptSlaFor(const core::PoolName& pool) const {
    auto it = pool_accept_sla.find(pool.value());
    return it == pool_accept_sla.end() ? accept_sla : it->second;
  }
};

// The sales-ops console (`console`): the browser front end and its JSON API, on its own HTTP
// listener. Off unless `listen` is set. It uses grpc.tls (the same certificate and key; client
// certificates are not requested: browsers sign in with a token) and grpc.auth's tokens and
// scopes, and a non-loopback listen needs both, like grpc.listen (or grpc.allow_insecure).
struct ConsoleConfig {
  std::string listen;  // host:port; "" = no console
  // Live feeds served at once (each holds a thread of the console's server).
  int max_live_streams = 4;
  bool enabled() const { return !listen.empty(); }
};

struct MetricsConfig {
  std::string listen = "127.0.0.1:9464";
  // Campaigns that get their own label value on lead metrics; every other is "other" (label
  // values must stay bounded).
  std::vector<std::string> campaigns;
};

// Shutdown (SIGTERM): streams first get a grace period, then everything is bounded.
struct ShutdownConfig {
  // How long open StreamAssignments streams get to finish before they are cancelled.
  std::chrono::milliseconds stream_grace{5000};
  // The hard bound on the whole shutdown; greater than stream_grace.
  std::chrono::milliseconds timeout{15000};
};

// Where one secret of the config comes from, and whether it was there when the config was
// loaded. Never the secret itself.
struct SecretRef {
  std::string field;   // the config field naming it, e.g. "dedupe.hmac_key_env"
  std::string source;  // the variable name or the file path
  bool present = false;
};

// One source of leads (`sources[]`): how its records are recognised and mapped onto LeadEvents
// before validation. A record is from a source when its `x-leadrouter-source` header names it,
// or when it arrives on the source's own `topic`.
// How leadrouter-ingest authenticates a source's HTTP deliveries (`sources[].auth`). A source
// without one is not served over HTTP.
struct SourceAuth {
  enum class Kind {
    kUnset,             // no `auth`: not served by leadrouter-ingest (404)
    kNone,              // `kind: none`: anyone may post (a public web form)
    kHubSpotSignature,  // X-HubSpot-Signature-v3 under the app's client secret
    kBearer,            // Authorization: Bearer <secret>
    kBasic,             // Authorization: Basic base64(username:secret)
    kHeader,            // <header>: <secret> (what a Marketo webhook template can send)
  };
  Kind kind = Kind::kUnset;
  std::string secret;         // from secret_env / secret_file; read only for leadrouter-ingest
  std::string secret_source;  // "env:NAME" / "file:PATH"
  std::string username;       // kBasic
  std::string header;         // kHeader
};
// "none", "hubspot_signature", "bearer", "basic", "header" ("" for kUnset).
const char* SourceAuthKindName(SourceAuth::Kind kind);

// Where the daemon fetches what an enriching source's records lack (`sources[].enrich`; required
// exactly when the source's mapping has `enrich`): for hubspot_contact, HubSpot's CRM objects
// API under a private app's access token.
struct SourceEnrich {
  bool configured = false;
  std::string api_base_url = "https://api.hubapi.com";  // http(s)://host[:port][/path]
  std::string token;         // from token_env / token_file; read by the daemon and `map` only
  std::string token_source;  // "env:NAME" / "file:PATH"
  std::chrono::milliseconds timeout{5000};  // per HTTP request
  int max_attempts = 3;  // per record and batch attempt (a 429 or 5xx is retried this often)
  // The longest Retry-After honoured inside one attempt; a longer one fails the batch attempt,
  // and the pipeline's backoff (which keeps the consumer in its group) waits instead.
  std::chrono::milliseconds max_retry_after{10000};
};

struct SourceConfig {
  std::string name;          // 1-64 of [A-Za-z0-9._-], unique; a metric label value
  std::string profile;       // a shipped profile (sources::ShippedProfileNames), or ""
  std::string mapping_file;  // the user's mapping file, or "" (for summaries)
  bool inline_mapping = false;
  std::string topic;  // its own input topic, or "" (header only)
  std::map<std::string, std::vector<std::string>> options;
  // The compiled mapping with the options applied; null for the native LeadEvent contract
  // (profile `leadevent`, the default).
  std::shared_ptr<const sources::Mapping> mapping;
  SourceAuth auth;
  SourceEnrich enrich;
};

struct RepConfig {
  std::string id;
  std::string name;
  // The rep's user in the CRM (a Salesforce User Id, a HubSpot owner id): 1..128 printable
  // ASCII characters, or empty when not configured. Travels on every AssignmentEvent.
  std::string crm_user_id;
};

// The outbox (`outbox`): one instance at a time forwards the shared assignment log to
// kafka.topics.assignments, holding a lease in Redis.
struct OutboxConfig {
  // How long a forwarder's lease lasts without renewal: another instance takes over within
  // about this long after the holder dies. Renewed every third of it.
  std::chrono::milliseconds lease{5000};
  // Log entries read and published per round.
  int batch_max_messages = 500;
};

// The whole daemon configuration, validated. A value type: copy freely.
struct Config {
  // Content hash of the source text ("sha256:" + 12 hex digits), stamped on every assignment.
  std::string version;
  KafkaConfig kafka;
  RedisConfig redis;
  IngestConfig ingest;
  DedupeConfig dedupe;
  GrpcConfig grpc;
  ConsoleConfig console;
  MetricsConfig metrics;
  LifecycleConfig lifecycle;
  ClaimsConfig claims;
  ShutdownConfig shutdown;
  OutboxConfig outbox;
  // Every secret the file names (redis.password_*, dedupe.hmac_key_*, grpc.tls.key_file,
  // grpc.auth.tokens_file), in file order. All present unless loaded with require_secrets off.
  std::vector<SecretRef> secrets;
  std::vector<RepConfig> reps;
  // reps[i] by id, or nullptr.
  const RepConfig* FindRep(std::string_view id) const;
  // The configured sources in file order (none: every record is a native LeadEvent).
  std::vector<SourceConfig> sources;
  // The source called `name`, or nullptr.
  const SourceConfig* FindSource(std::string_view name) const;
  // The source whose own topic is `topic`, or nullptr.
  const SourceConfig* SourceForTopic(std::string_view topic) const;
  // kafka.topics.inbound and every source's own topic, each once, in that order.
  std::vector<std::string> InputTopics() const;
  // Reps' availability and capacity, pools, territories; and the compiled engine (never null in
  // a parsed Config). Without a `pools` section every rep is a weight-1 member of one
  // weighted-round-robin pool named by `pool` (default "default").
  routing::RoutingRules routing;
  std::shared_ptr<const routing::Engine> engine;
  // The ideal-customer profile as written, and compiled (never null in a parsed Config; a
  // missing `qualification` section qualifies every valid lead).
  qualify::Profile qualification;
  std::shared_ptr<const qualify::Qualifier> qualifier;
};

struct LoadOptions {
  // Off (`leadrouter check-config` in CI, without the production secrets): secret references are
  // still validated (one of `_env` / `_file`, a well-formed variable name, never inline), but a
  // variable that is not set or a file that cannot be read is only recorded in Config::secrets
  // (present = false) instead of being an error. Such a Config is for validation only.
  bool require_secrets = true;
  // leadrouter-ingest: the secrets of sources[].auth are read (and required with
  // require_secrets) and ingest.http's TLS files must be readable, while the daemon's own
  // secrets (redis.password, dedupe.hmac_key) are validated but neither read nor required.
  // Off, the other way round: the daemon never needs the sources' secrets.
  bool for_ingest = false;
};

// Parses and validates YAML text. Errors are InvalidArgument listing every problem found, one
// per line, each with the path of the offending field, e.g.
//   config: reps[2].id: duplicate rep id "rep-ada"
//   config: qualification.criteria[0].between: lower bound 500 > upper bound 50
// Unknown fields are errors too, so a typo never silently falls back to a default. Secrets are
// resolved from the environment / files here. A mapping key given twice at any depth is an
// error (`config: kafka: duplicate key (also at line 3)`), and so is a document of more than a
// million nodes (aliases expanded) or nested deeper than 64 levels. Thread-safe.
absl::StatusOr<Config> ParseConfig(std::string_view yaml_text, const LoadOptions& options = {});

// A human-readable summary of a valid config (for `leadrouter check-config`). Names where each
// secret comes from and whether it is there, never a secret.
std::string Summarize(const Config& config);

// The largest config file read: YAML a person edits, so anything bigger is a mistake (or
// something endless such as /dev/zero).
inline constexpr size_t kMaxConfigFileBytes = 4 << 20;

// Reads and parses a file; NotFound / InvalidArgument name the file. A file larger than
// kMaxConfigFileBytes (4 MiB) is refused after reading at most that + 1 bytes.
absl::StatusOr<Config> LoadConfigFile(const std::string& path, const LoadOptions& options = {});

}  // namespace leadrouter::config
