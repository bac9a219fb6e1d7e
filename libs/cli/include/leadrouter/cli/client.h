#pragma once

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "leadrouter/v1/admin_service.grpc.pb.h"
#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter::cli {

// How every call is made.
struct CallOptions {
  std::string token;                           // sent as "authorization: Bearer <token>"; "" none
  absl::Duration timeout = absl::Seconds(10);  // deadline of each unary call; <= 0: none
  bool json = false;  // print the response message as one line of JSON instead of text
};

struct WatchOptions {
  std::vector<std::string> reps;                   // only these reps' events (empty: all)
  std::vector<std::string> pools;                  // only these pools' events (empty: all)
  std::string after_cursor;                        // resume after this cursor ("": from now)
  int64_t count = 0;                               // stop after this many events (0: no limit)
  absl::Duration duration = absl::ZeroDuration();  // stop after this long (<= 0: no limit)
};

// Runs leadctl's commands over one channel: each method makes its call(s), prints the result to
// `out` (text, or JSON with CallOptions::json) and a failure to `err` as
// "leadctl: <CODE>: <message>", and returns the exit code (exit_code.h). Not thread-safe: one
// command at a time. `out` and `err` must outlive the Client.
class Client {
 public:
  Client(std::shared_ptr<grpc::ChannelInterface> channel, CallOptions options, std::ostream& out,
         std::ostream& err);

  // Prints each event as it arrives (WatchLine, or one JSON object per line), flushing after
  // each. Ends with 0 after `count` events, when `duration` passes or when the server ends the
  // stream normally; otherwise with the stream's status, naming the last cursor seen so the
  // user can resume.
  int Watch(const WatchOptions& watch);

  int Accept(const std::string& lead_id, const std::string& rep_id);
  int Return(const std::string& lead_id, const std::string& rep_id,
             leadrouter::v1::ReturnReason reason, const std::string& note);
  int Convert(const std::string& lead_id, const std::string& rep_id, std::optional<double> value,
              const std::string& note);
  int Explain(const std::string& lead_id);

  int Reps();
  int Unassigned(int32_t limit);  // 0: the server's default
  int SetPaused(const std::string& rep_id, bool paused);
  int OutOfOffice(const std::string& rep_id, absl::Time from, absl::Time to);
  int ClearOutOfOffice(const std::string& rep_id);
  // Unset values leave the current cap; 0 means no cap.
  int SetCapacity(const std::string& rep_id, std::optional<int64_t> max_open_leads,
                  std::optional<int64_t> daily_cap);
  int ClearCapacity(const std::string& rep_id);
  // Exit 3 when the server refused the new config (it keeps the old one).
  int Reload();

  // Account claims: claim domains for a rep; list claims and conflicts (reps empty: all the
  // token may see); resolve an open conflict (claimant_percent for kShare only).
  int Claim(const std::string& rep_id, const std::vector<std::string>& domains,
            const std::string& note);
  int Claims(const std::vector<std::string>& reps, const std::string& domain,
             bool open_conflicts_only);
  int Resolve(const std::string& domain, const std::string& claimant,
              leadrouter::v1::ConflictDecision decision, uint32_t claimant_percent,
              const std::string& note);

 private:
  void Prepare(grpc::ClientContext& context, bool unary) const;
  int Fail(const grpc::Status& status, const std::string& hint = "");
  int PrintJson(const google::protobuf::Message& message);
  int PrintRepLoad(const grpc::Status& status, const leadrouter::v1::RepLoad& load);

  std::unique_ptr<leadrouter::v1::RouterService::Stub> router_;
  std::unique_ptr<leadrouter::v1::AdminService::Stub> admin_;
  CallOptions options_;
  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace leadrouter::cli
