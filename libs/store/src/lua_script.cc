#include "leadrouter/store/lua_script.h"

#include <openssl/evp.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace leadrouter::store {
namespace {

std::string HexSha1(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // SHA-1 of an in-memory buffer cannot fail short of memory exhaustion.
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

}  // namespace

LuaScript::LuaScript(std::string source) : source_(std::move(source)), sha1_(HexSha1(source_)) {}

std::vector<std::string> LuaScript::EvalShaCommand(const std::vector<std::string>& keys,
                                                   const std::vector<std::string>& args) const {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.push_back("EVALSHA");
  command.push_back(sha1_);
  command.push_back(std::to_string(keys.size()));
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

bool LuaScript::IsNoScript(const RedisReply& reply) {
  return reply.is_error() && absl::StartsWith(reply.str, "NOSCRIPT");
}

absl::Status LuaScript::Load(RedisConnection& connection, RedisOp op) const {
  absl::StatusOr<RedisReply> reply = connection.Command({"SCRIPT", "LOAD", source_}, op);
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kString || reply->str != sha1_) {
    return absl::FailedPreconditionError(
        absl::StrCat("SCRIPT LOAD of ", sha1_, " answered: ", reply->str));
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisReply> LuaScript::Run(RedisConnection& connection,
                                          const std::vector<std::string>& keys,
                                          const std::vector<std::string>& args, RedisOp op) const {
  const std::vector<std::string> command = EvalShaCommand(keys, args);
  absl::StatusOr<RedisReply> reply = connection.Command(command, op);
  if (!reply.ok() || !IsNoScript(*reply)) return reply;
  // NOSCRIPT means the script did not run, so sending it again cannot apply it twice.
  if (absl::Status loaded = Load(connection, op); !loaded.ok()) return loaded;
  return connection.Command(command, op);
}

}  // namespace leadrouter::store
