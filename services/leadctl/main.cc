// leadctl: the command line for sales-ops and CRM admins. Talks to leadrouter over gRPC
// (RouterService, AdminService). This file only wires CLI11 and the channel; what each command
// sends and prints is leadrouter::cli (libs/cli), unit-tested in tests/unit/leadctl_test.cc.
//
// GLOBAL OPTIONS (before or after the command)
//   -s, --server HOST:PORT   default 127.0.0.1:50051, or env LEADCTL_SERVER
//   --token-file PATH        bearer token (else env LEADCTL_TOKEN), sent as
//                            "authorization: Bearer <token>"
//   --tls-ca PEM             TLS, trusting these roots; --tls-cert PEM --tls-key PEM add a client
//                            certificate (mTLS; without --tls-ca the system roots are trusted);
//                            --tls-server-name NAME checks the server's certificate for NAME
//   --timeout SECONDS        deadline of each unary call (default 10, 0 none); `watch --timeout`
//                            is the stream's own limit
//   --json                   print the RPC's response message as one line of protobuf JSON
//                            (field names as in the .proto, proto3 defaults omitted); `watch`
//                            prints one AssignmentEvent per line
//
// COMMANDS AND THEIR TEXT OUTPUT (stable: scripts and the end-to-end tests grep it). <time> is
// RFC 3339 UTC with whole seconds, "2024-05-01T09:00:00Z"; text from leads and the server is
// made one line (control characters become spaces); columns are separated by two spaces.
//
//   watch [--rep R]... [--pool P]... [--after CURSOR] [-n|--count N] [--timeout S]
//   (alias: subscribe) one line per event, flushed at once, fields separated by two spaces and
//   left out when empty:
//     <time>  <summary>  <person (company)>  <reason>  cursor=<cursor>
//   <summary>, also what accept/return/convert print, one line per resulting event:
//     ASSIGNED <lead> -> <rep> (attempt <n>)
//     ACCEPTED <lead> by <rep>
//     RETURNED <lead> by <rep> (<reason>[: <note>])
//     EXPIRED <lead> from <rep> (not accepted by <time>)
//     CONVERTED <lead> by <rep> (value <x.xx>[: <note>])
//     DUPLICATE <lead> -> <rep> (event <event id>)
//     UNASSIGNED <lead> (queued, attempt <n>)
//     RECYCLED <lead> (to marketing after <n> attempts)
//   Exits 0 after --count events, when --timeout passes or when the server ends the stream
//   normally; a stream the server ends with an error prints "leadctl: <CODE>: <message> (resume
//   with --after <last cursor>)" to stderr and exits with that code's exit code.
//
//   accept LEAD --rep R
//   return LEAD --rep R --reason bad_fit|wrong_territory|duplicate|no_contact_info|not_ready|
//                                existing_customer|other [--note TEXT]   (other needs a note)
//   convert LEAD --rep R [--value X] [--note TEXT]
//     one <summary> line per event of the resulting LeadUpdate, in order, e.g. for
//     `return ld_x --rep rep-ada --reason bad_fit`:
//       RETURNED ld_x by rep-ada (bad_fit)
//       ASSIGNED ld_x -> rep-bob (attempt 2)
//     "no change" when the update holds no events.
//
//   explain LEAD: "<key> <value>" lines, the key padded to 14 columns, "-" for unset:
//     lead, status ("ASSIGNED (attempt 2)"), rep, pool, territory, assigned at, sla deadline,
//     reason, [return reason, value, note,] person, company, source, last change ("<time> by
//     <actor>"), event, assignment, config, cursor
//   a blank line, then: qualification ("QUALIFIED, score 82/100"), segments, reasons, and
//     "rules:" with the table KIND  NAME  FIRED (yes/no)  POINTS  DETAIL (indented 2)
//   a blank line, "trace:", then "  <n>. <stage>: <decision> — <reason>" per step
//   a blank line, "history:", then the table TIME  STATUS  REP  ACTOR  REASON/NOTE (indented 2)
//
//   reps: the table REP  OPEN  TODAY  MAX OPEN  DAILY CAP  PAUSED  AVAILABLE
//     caps of 0 print "-"; PAUSED yes|no; AVAILABLE "yes" or "no (<reason>)"; "no reps" if none
//   unassigned [--limit N]: the table QUEUED  LEAD  ATTEMPT  POOL  TERRITORY  PERSON  REASON,
//     then "<n> unassigned leads" (or "<n> of <total> unassigned leads"); "no unassigned leads"
//   pause REP | resume REP | ooo REP --from TIME --to TIME | ooo REP --clear |
//   capacity REP [--max-open N] [--daily N] | capacity REP --clear:
//     the rep's row of the `reps` table after the change. TIME: RFC 3339 with an offset
//     ("2024-05-01T09:00:00Z", "...+02:00") or a date ("2024-05-01" = 00:00 UTC); --from
//     defaults to now. Caps: 0 = no cap.
//   reload: "<applied|unchanged|refused> (config version <version>)", then the detail's lines
//     indented by two spaces; refused also exits 3
//
//   claim REP DOMAIN... [--note TEXT]: one line per distinct account,
//     <domain>  <outcome>  owners <owners>[  until <time>]
//   outcome owned | renewed | conflict_refused | conflict_pending | conflict_shared; owners
//   "rep-ada" or "rep-ada 50%, rep-bob 50%". Domains may be URLs ("https://www.acme.com/x" is
//   acme.com); a consumer mail domain or a string without a registrable domain exits 3.
//   claims [--rep R]... [--domain D] [--open]: the table DOMAIN  REP  STATUS  SHARE  CLAIMED
//     UNTIL ("no claims"), a blank line, "conflicts:" and the table DOMAIN  CLAIMANT  OWNERS AT
//     CLAIM  POLICY  STATUS  RAISED  RESOLVED BY  OWNERS AFTER indented by two ("  no
//     conflicts"), then "<n> open conflicts". --open: only open conflicts, no claims table.
//   resolve DOMAIN CLAIMANT --keep | --award | --share PERCENT [--note TEXT] (admin scope):
//     "<domain>: <claimant> vs <owners at claim>: <owner_kept|claimant_awarded|shared>; owners
//     now <owners>"
//
// EXIT CODES (leadrouter/cli/exit_code.h)
//   0 ok
//   1 the server failed on its own (INTERNAL, UNKNOWN, DATA_LOSS, CANCELLED)
//   2 usage: bad flags or arguments, unknown reason, unparsable time, unreadable file; nothing
//     was sent
//   3 refused: INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, PERMISSION_DENIED,
//     UNAUTHENTICATED, ALREADY_EXISTS, OUT_OF_RANGE, UNIMPLEMENTED, or a refused config reload
//   4 unavailable, retry later: UNAVAILABLE (incl. unreachable), DEADLINE_EXCEEDED,
//     RESOURCE_EXHAUSTED, ABORTED
//   A failed call prints "leadctl: <CODE>: <message>" to stderr (with --json too); stdout then
//   holds nothing. gRPC's own log lines are dropped unless GRPC_VERBOSITY is set.
#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "leadrouter/cli/client.h"
#include "leadrouter/cli/exit_code.h"
#include "leadrouter/cli/parse.h"

namespace {

namespace cli = leadrouter::cli;

constexpr char kFooter[] =
    R"(Environment: LEADCTL_SERVER (default for --server), LEADCTL_TOKEN (bearer token when no
--token-file). Global options may come before or after the command. --json prints the
response message as one line of protobuf JSON (watch: one event per line).

Exit codes:
  0  ok
  1  the server failed on its own (INTERNAL, UNKNOWN, DATA_LOSS, CANCELLED)
  2  usage error (bad flags, unknown reason, unparsable time, unreadable file); nothing sent
  3  the server refused the request (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION,
     PERMISSION_DENIED, UNAUTHENTICATED, ALREADY_EXISTS, OUT_OF_RANGE, UNIMPLEMENTED) or
     refused a config reload
  4  unavailable, retry later (unreachable, UNAVAILABLE, DEADLINE_EXCEEDED,
     RESOURCE_EXHAUSTED, ABORTED)
A failed call prints "leadctl: <CODE>: <message>" to stderr.)";

struct Global {
  std::string server = "127.0.0.1:50051";
  std::string token_file;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;
  double timeout_s = 10;
  bool json = false;
};

// A CLI11 check that runs one of libs/cli's parsers, so a bad value is a usage error.
template <typename Parse>
CLI::Validator Check(Parse parse, const std::string& description) {
  return CLI::Validator(
      [parse](std::string& value) -> std::string {
        const auto parsed = parse(value);
        return parsed.ok() ? std::string() : std::string(parsed.status().message());
      },
      description);
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return std::nullopt;
  return text.str();
}

// The channel and call options the global flags describe; nullopt after printing why not.
std::optional<std::shared_ptr<grpc::Channel>> MakeChannel(const Global& global) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (global.tls_ca.empty() && global.tls_cert.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions tls;
    for (const auto& [flag, path, pem] :
         {std::tuple{"--tls-ca", &global.tls_ca, &tls.pem_root_certs},
          std::tuple{"--tls-cert", &global.tls_cert, &tls.pem_cert_chain},
          std::tuple{"--tls-key", &global.tls_key, &tls.pem_private_key}}) {
      if (path->empty()) continue;
      std::optional<std::string> contents = ReadFile(*path);
      if (!contents.has_value()) {
        std::cerr << "leadctl: " << flag << ": cannot read " << *path << std::endl;
        return std::nullopt;
      }
      *pem = std::move(*contents);
    }
    credentials = grpc::SslCredentials(tls);
  }
  grpc::ChannelArguments arguments;
  if (!global.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(global.tls_server_name);
  }
  return grpc::CreateCustomChannel(global.server, credentials, arguments);
}

std::optional<std::string> Token(const Global& global) {
  std::string raw;
  std::string source;
  if (!global.token_file.empty()) {
    std::optional<std::string> contents = ReadFile(global.token_file);
    if (!contents.has_value()) {
      std::cerr << "leadctl: --token-file: cannot read " << global.token_file << std::endl;
      return std::nullopt;
    }
    raw = std::move(*contents);
    source = "--token-file " + global.token_file;
  } else if (const char* env = std::getenv("LEADCTL_TOKEN"); env != nullptr && *env != '\0') {
    raw = env;
    source = "LEADCTL_TOKEN";
  } else {
    return std::string();
  }
  absl::StatusOr<std::string> token = cli::ParseToken(raw);
  if (!token.ok()) {
    std::cerr << "leadctl: " << source << ": " << token.status().message() << std::endl;
    return std::nullopt;
  }
  return *token;
}

}  // namespace

int main(int argc, char** argv) {
  // gRPC's own log lines (handshake failures, ...) would come before leadctl's one-line error
  // that already carries the cause; they are kept only when GRPC_VERBOSITY asks for them.
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});

  CLI::App app{"leadctl: watch, act on and explain lead assignments; manage reps (leadrouter)"};
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(kFooter);

  Global global;
  app.add_option("-s,--server", global.server, "leadrouter gRPC address host:port")
      ->envname("LEADCTL_SERVER")
      ->capture_default_str();
  app.add_option("--token-file", global.token_file,
                 "file holding the bearer token (else env LEADCTL_TOKEN)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-ca", global.tls_ca, "PEM roots to trust; turns TLS on")
      ->check(CLI::ExistingFile);
  auto* tls_cert = app.add_option("--tls-cert", global.tls_cert, "PEM client certificate (mTLS)")
                       ->check(CLI::ExistingFile);
  auto* tls_key = app.add_option("--tls-key", global.tls_key, "PEM client private key (mTLS)")
                      ->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  app.add_option("--tls-server-name", global.tls_server_name,
                 "name the server's certificate must carry (default: the --server host)");
  app.add_option("--timeout", global.timeout_s, "deadline of each unary call, seconds (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--json", global.json, "one line of protobuf JSON per response (watch: per event)");

  // watch (alias subscribe)
  auto* watch = app.add_subcommand("watch", "print assignment events as they happen");
  watch->alias("subscribe");
  cli::WatchOptions watch_options;
  double watch_timeout_s = 0;
  watch->add_option("--rep", watch_options.reps, "only this rep's events (repeatable)");
  watch->add_option("--pool", watch_options.pools, "only this pool's events (repeatable)");
  watch->add_option("--after", watch_options.after_cursor,
                    "resume after this cursor (the cursor= of the last line seen)");
  watch->add_option("-n,--count", watch_options.count, "exit after this many events (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  watch->add_option("--timeout", watch_timeout_s, "exit 0 after this many seconds (0: no limit)")
      ->check(CLI::NonNegativeNumber);

  // accept / return / convert / explain
  std::string lead_id;
  std::string rep_id;
  std::string note;
  auto* accept = app.add_subcommand("accept", "accept a lead assigned to you");
  accept->add_option("LEAD", lead_id, "lead id")->required();
  accept->add_option("--rep", rep_id, "the rep holding the lead")->required();

  auto* give_back = app.add_subcommand("return", "return a lead; it is routed to another rep");
  std::string reason_text;
  give_back->add_option("LEAD", lead_id, "lead id")->required();
  give_back->add_option("--rep", rep_id, "the rep holding the lead")->required();
  give_back->add_option("--reason", reason_text)
      ->required()
      ->check(Check(cli::ParseReturnReason, "REASON"))
      ->description("why: " + absl::StrJoin(cli::ReturnReasonNames(), "|"));
  give_back->add_option("--note", note, "free text (required with --reason other)");

  auto* convert = app.add_subcommand("convert", "mark a lead converted");
  double value = 0;
  convert->add_option("LEAD", lead_id, "lead id")->required();
  convert->add_option("--rep", rep_id, "the rep holding the lead")->required();
  auto* value_option =
      convert->add_option("--value", value, "deal value (>= 0)")->check(CLI::NonNegativeNumber);
  convert->add_option("--note", note, "free text");

  auto* explain = app.add_subcommand("explain", "a lead's state, qualification, trace and history");
  explain->add_option("LEAD", lead_id, "lead id")->required();

  // admin
  auto* reps = app.add_subcommand("reps", "every rep's load, caps and availability");
  auto* unassigned = app.add_subcommand("unassigned", "qualified leads waiting for a rep");
  int32_t limit = 0;
  unassigned->add_option("--limit", limit, "at most this many (server default 100, max 1000)")
      ->check(CLI::Range(1, 1000));
  auto* pause = app.add_subcommand("pause", "the rep takes no new leads until resumed");
  pause->add_option("REP", rep_id, "rep id")->required();
  auto* resume = app.add_subcommand("resume", "the rep takes new leads again");
  resume->add_option("REP", rep_id, "rep id")->required();

  auto* ooo = app.add_subcommand("ooo", "add an out-of-office window [from, to), or --clear them");
  std::string from_text;
  std::string to_text;
  ooo->add_option("REP", rep_id, "rep id")->required();
  auto* from_option = ooo->add_option("--from", from_text, "start, RFC 3339 (default: now)")
                          ->check(Check(cli::ParseTime, "TIME"));
  auto* to_option =
      ooo->add_option("--to", to_text, "end, RFC 3339")->check(Check(cli::ParseTime, "TIME"));
  bool clear_ooo = false;
  auto* ooo_clear = ooo->add_flag("--clear", clear_ooo,
                                  "remove every out-of-office window added through the API");
  ooo_clear->excludes(from_option)->excludes(to_option);

  auto* capacity = app.add_subcommand("capacity", "override a rep's caps (0: no cap), or --clear");
  int64_t max_open = 0;
  int64_t daily = 0;
  capacity->add_option("REP", rep_id, "rep id")->required();
  auto* max_open_option = capacity->add_option("--max-open", max_open, "open leads at most")
                              ->check(CLI::NonNegativeNumber);
  auto* daily_option = capacity->add_option("--daily", daily, "new leads per day at most")
                           ->check(CLI::NonNegativeNumber);
  bool clear_capacity = false;
  auto* capacity_clear = capacity->add_flag("--clear", clear_capacity, "back to the config's caps");
  capacity_clear->excludes(max_open_option)->excludes(daily_option);

  auto* reload = app.add_subcommand("reload", "re-read the config file now (as SIGHUP does)");

  std::vector<std::string> domains, claim_reps;
  std::string domain;
  auto* claim = app.add_subcommand("claim", "claim target accounts (company domains) for a rep");
  claim->add_option("REP", rep_id, "the claiming rep")->required();
  claim->add_option("DOMAIN", domains, "company domains or website URLs")->required();
  claim->add_option("--note", note, "free text (e.g. the deal registration)");
  auto* claims = app.add_subcommand("claims", "account claims and claim conflicts");
  claims->add_option("--rep", claim_reps, "only this rep's claims and conflicts (repeatable)");
  claims->add_option("--domain", domain, "only this account");
  bool open_conflicts_only = false;
  claims->add_flag("--open", open_conflicts_only, "only open conflicts (no claims)");
  auto* resolve = app.add_subcommand("resolve", "settle an open claim conflict (admin)");
  resolve->add_option("DOMAIN", domain, "the account")->required();
  std::string claimant;
  resolve->add_option("CLAIMANT", claimant, "the rep whose claim conflicted")->required();
  bool keep = false, award = false;
  uint32_t share_percent = 0;
  auto* keep_flag = resolve->add_flag("--keep", keep, "the owner keeps the account");
  auto* award_flag = resolve->add_flag("--award", award, "the claimant becomes the sole owner");
  auto* share_option =
      resolve->add_option("--share", share_percent, "share it: the claimant's percent (1-99)")
          ->check(CLI::Range(1, 99));
  keep_flag->excludes(award_flag)->excludes(share_option);
  award_flag->excludes(share_option);
  resolve->add_option("--note", note, "why");

  try {
    app.parse(argc, argv);
    if (ooo->parsed() && !ooo_clear->count() && !to_option->count()) {
      throw CLI::ValidationError("ooo", "needs --to TIME (and optionally --from TIME), or --clear");
    }
    if (resolve->parsed() && !keep && !award && !share_option->count()) {
      throw CLI::ValidationError("resolve", "needs one of --keep, --award or --share PERCENT");
    }
    if (capacity->parsed() && !capacity_clear->count() && !max_open_option->count() &&
        !daily_option->count()) {
      throw CLI::ValidationError("capacity", "needs --max-open N and/or --daily N, or --clear");
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? cli::kExitOk : cli::kExitUsage;
  }

  absl::Time ooo_from = absl::Now();
  absl::Time ooo_to;
  if (ooo->parsed() && !ooo_clear->count()) {
    if (from_option->count()) ooo_from = *cli::ParseTime(from_text);  // checked while parsing
    ooo_to = *cli::ParseTime(to_text);
    if (ooo_to <= ooo_from) {
      std::cerr << "leadctl: ooo: --to must be after --from ("
                << absl::FormatTime(absl::RFC3339_sec, ooo_from, absl::UTCTimeZone()) << ")"
                << std::endl;
      return cli::kExitUsage;
    }
  }

  const std::optional<std::string> token = Token(global);
  if (!token.has_value()) return cli::kExitUsage;
  const std::optional<std::shared_ptr<grpc::Channel>> channel = MakeChannel(global);
  if (!channel.has_value()) return cli::kExitUsage;
  cli::CallOptions call;
  call.token = *token;
  call.timeout = absl::Seconds(global.timeout_s);
  call.json = global.json;
  cli::Client client(*channel, call, std::cout, std::cerr);

  if (watch->parsed()) {
    watch_options.duration = absl::Seconds(watch_timeout_s);
    return client.Watch(watch_options);
  }
  if (accept->parsed()) return client.Accept(lead_id, rep_id);
  if (give_back->parsed())
    return client.Return(lead_id, rep_id, *cli::ParseReturnReason(reason_text), note);
  if (convert->parsed()) {
    return client.Convert(
        lead_id, rep_id, value_option->count() ? std::optional<double>(value) : std::nullopt, note);
  }
  if (explain->parsed()) return client.Explain(lead_id);
  if (reps->parsed()) return client.Reps();
  if (unassigned->parsed()) return client.Unassigned(limit);
  if (pause->parsed()) return client.SetPaused(rep_id, true);
  if (resume->parsed()) return client.SetPaused(rep_id, false);
  if (ooo->parsed()) {
    return ooo_clear->count() ? client.ClearOutOfOffice(rep_id)
                              : client.OutOfOffice(rep_id, ooo_from, ooo_to);
  }
  if (capacity->parsed()) {
    if (capacity_clear->count()) return client.ClearCapacity(rep_id);
    return client.SetCapacity(
        rep_id, max_open_option->count() ? std::optional<int64_t>(max_open) : std::nullopt,
        daily_option->count() ? std::optional<int64_t>(daily) : std::nullopt);
  }
  if (reload->parsed()) return client.Reload();
  if (claim->parsed()) return client.Claim(rep_id, domains, note);
  if (claims->parsed()) return client.Claims(claim_reps, domain, open_conflicts_only);
  if (resolve->parsed()) {
    const leadrouter::v1::ConflictDecision decision =
        keep    ? leadrouter::v1::CONFLICT_DECISION_KEEP_OWNER
        : award ? leadrouter::v1::CONFLICT_DECISION_AWARD_CLAIMANT
                : leadrouter::v1::CONFLICT_DECISION_SHARE;
    return client.Resolve(domain, claimant, decision, share_percent, note);
  }
  return cli::kExitUsage;  // require_subcommand(1) makes this unreachable
}
