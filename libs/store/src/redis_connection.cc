#include "leadrouter/store/redis_connection.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace leadrouter::store {
namespace {

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(void* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval ToTimeval(std::chrono::milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

absl::StatusOr<RedisReply> Convert(const redisReply& reply) {
  RedisReply out;
  switch (reply.type) {
    case REDIS_REPLY_NIL:
      out.type = RedisReply::Type::kNil;
      return out;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply.integer;
      return out;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(reply.str, reply.len);
      return out;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(reply.str, reply.len);
      return out;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(reply.str, reply.len);
      return out;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) {
        absl::StatusOr<RedisReply> element = Convert(*reply.element[i]);
        if (!element.ok()) return element.status();
        out.elements.push_back(*std::move(element));
      }
      return out;
  }
  return absl::InternalError(absl::StrCat("unknown hiredis reply type ", reply.type));
}

// hiredis wants parallel arrays of pointers and lengths; these views live as long as `args`.
struct ArgvView {
  explicit ArgvView(const std::vector<std::string>& args) {
    pointers.reserve(args.size());
    lengths.reserve(args.size());
    for (const std::string& arg : args) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
  }
  int argc() const { return static_cast<int>(pointers.size()); }
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
};

}  // namespace

struct RedisConnection::Impl {
  RedisOptions options;
  ContextPtr context;  // null when broken

  std::string Endpoint() const { return absl::StrCat(options.host, ":", options.port); }

  absl::Status Open() {
    context.reset();
    ContextPtr fresh(redisConnectWithTimeout(options.host.c_str(), options.port,
                                             ToTimeval(options.connect_timeout)));
    if (fresh == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("redis ", Endpoint(), ": cannot allocate connection"));
    }
    if (fresh->err != 0) {
      return absl::UnavailableError(absl::StrCat("redis ", Endpoint(), ": ", fresh->errstr));
    }
    if (redisSetTimeout(fresh.get(), ToTimeval(options.command_timeout)) != REDIS_OK) {
      return absl::UnavailableError(
          absl::StrCat("redis ", Endpoint(), ": cannot set timeout: ", fresh->errstr));
    }
    if (!options.password.empty()) {
      const std::vector<std::string> auth = {"AUTH", options.password};
      ArgvView argv(auth);
      ReplyPtr reply(static_cast<redisReply*>(
          redisCommandArgv(fresh.get(), argv.argc(), argv.pointers.data(), argv.lengths.data())));
      if (reply == nullptr) {
        return absl::UnavailableError(
            absl::StrCat("redis ", Endpoint(), ": AUTH failed: ", fresh->errstr));
      }
      if (reply->type == REDIS_REPLY_ERROR) {
        return absl::UnauthenticatedError(absl::StrCat(
            "redis ", Endpoint(), ": AUTH refused: ", std::string(reply->str, reply->len)));
      }
    }
    context = std::move(fresh);
    return absl::OkStatus();
  }

  // After a failed hiredis call: the context is unusable (its buffers may hold half a command),
  // so drop it and report why.
  absl::Status Break(std::string_view what) {
    std::string reason = context != nullptr && context->err != 0 ? context->errstr : "no reply";
    // hiredis reports a socket timeout (SO_RCVTIMEO/SO_SNDTIMEO) as the EAGAIN error text.
    if (context != nullptr && context->err == REDIS_ERR_IO && reason == std::strerror(EAGAIN)) {
      reason = absl::StrCat("timed out after ", options.command_timeout.count(), " ms");
    }
    context.reset();
    spdlog::warn("redis {}: {} failed: {}; will reconnect on next use", Endpoint(), what, reason);
    return absl::UnavailableError(
        absl::StrCat("redis ", Endpoint(), ": ", std::string(what), ": ", reason));
  }
};

RedisConnection::RedisConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RedisConnection::~RedisConnection() = default;

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Connect(
    const RedisOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (absl::Status status = impl->Open(); !status.ok()) return status;
  return std::unique_ptr<RedisConnection>(new RedisConnection(std::move(impl)));
}

bool RedisConnection::healthy() const {
  return impl_->context != nullptr;
}
const RedisOptions& RedisConnection::options() const {
  return impl_->options;
}

absl::Status RedisConnection::EnsureConnected() {
  if (impl_->context != nullptr) return absl::OkStatus();
  absl::Status status = impl_->Open();
  if (status.ok()) spdlog::info("redis {}: reconnected", impl_->Endpoint());
  return status;
}

namespace {

// Times one round trip for the options' observer: from before a reconnect it may need until the
// last reply is read, which is the latency the caller sees.
template <typename Result, typename RoundTrip>
Result Observed(RedisObserver* observer, RedisOp op, RoundTrip&& round_trip) {
  if (observer == nullptr) return round_trip();
  const auto started = std::chrono::steady_clock::now();
  Result result = round_trip();
  observer->Observe(
      op, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
      result.ok());
  return result;
}

}  // namespace

absl::StatusOr<RedisReply> RedisConnection::Command(const std::vector<std::string>& args,
                                                    RedisOp op) {
  if (args.empty()) return absl::InvalidArgumentError("redis command without arguments");
  return Observed<absl::StatusOr<RedisReply>>(impl_->options.observer, op,
                                              [&] { return CommandUnobserved(args); });
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::Pipeline(
    const std::vector<std::vector<std::string>>& commands, RedisOp op) {
  if (commands.empty()) return std::vector<RedisReply>{};
  for (const auto& command : commands) {
    if (command.empty()) return absl::InvalidArgumentError("redis command without arguments");
  }
  return Observed<absl::StatusOr<std::vector<RedisReply>>>(
      impl_->options.observer, op, [&] { return PipelineUnobserved(commands); });
}

absl::StatusOr<RedisReply> RedisConnection::CommandUnobserved(
    const std::vector<std::string>& args) {
  if (absl::Status status = EnsureConnected(); !status.ok()) return status;
  ArgvView argv(args);
  ReplyPtr reply(static_cast<redisReply*>(redisCommandArgv(
      impl_->context.get(), argv.argc(), argv.pointers.data(), argv.lengths.data())));
  if (reply == nullptr) return impl_->Break(args.front());
  return Convert(*reply);
}

absl::StatusOr<std::vector<RedisReply>> RedisConnection::PipelineUnobserved(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<RedisReply> replies;
  if (absl::Status status = EnsureConnected(); !status.ok()) return status;
  redisContext* context = impl_->context.get();
  for (const auto& command : commands) {
    ArgvView argv(command);
    if (redisAppendCommandArgv(context, argv.argc(), argv.pointers.data(), argv.lengths.data()) !=
        REDIS_OK) {
      return impl_->Break("pipeline append");
    }
  }
  // The first redisGetReply flushes the whole output buffer, then each call reads one reply.
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
      if (raw != nullptr) freeReplyObject(raw);
      return impl_->Break(absl::StrCat("pipeline reply ", i, " of ", commands.size()));
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    absl::StatusOr<RedisReply> converted = Convert(*reply);
    if (!converted.ok()) {
      // The stream is still in sync, but the caller gets no replies: drop the rest cleanly.
      impl_->context.reset();
      return converted.status();
    }
    replies.push_back(*std::move(converted));
  }
  return replies;
}

}  // namespace leadrouter::store
