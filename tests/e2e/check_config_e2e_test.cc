// End to end, `leadrouter check-config`: the built binary on the shipped example config, with
// and without its secret, as a CI job without production secrets runs it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "leadrouter/testing/subprocess.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kExample[] = LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml";

struct CommandResult {
  int code = -1;
  std::string output;
};

CommandResult CheckConfig(std::vector<std::string> args,
                          std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), {LEADROUTER_BIN, "check-config"});
  auto process = testing::Subprocess::Start(std::move(args), std::move(env));
  if (!process.ok()) {
    ADD_FAILURE() << process.status();
    return {};
  }
  auto code = (*process)->Wait(10s);
  if (!code.ok()) ADD_FAILURE() << code.status() << "\n" << (*process)->Output();
  return {code.ok() ? *code : -1, (*process)->Output()};
}

class CheckConfigEndToEnd : public ::testing::Test {
 protected:
  // The child inherits the environment: the key must not be there unless a test adds it.
  void SetUp() override { ::unsetenv("LEADROUTER_DEDUPE_KEY"); }
};

TEST_F(CheckConfigEndToEnd, PassesWithoutSecretsAndSaysWhichAreMissing) {
  const CommandResult run = CheckConfig({kExample});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(std::string(kExample) + ": valid"));
  EXPECT_THAT(run.output, HasSubstr("secrets:        dedupe.hmac_key_env=LEADROUTER_DEDUPE_KEY "
                                    "(not set)"));
}

TEST_F(CheckConfigEndToEnd, RequireSecretsFailsNamingTheField) {
  const CommandResult run = CheckConfig({kExample, "--require-secrets"});
  EXPECT_EQ(run.code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("config: dedupe.hmac_key_env: environment variable "
                                    "LEADROUTER_DEDUPE_KEY is not set"));
}

TEST_F(CheckConfigEndToEnd, RequireSecretsPassesWhenTheyAreThereAndNeverPrintsThem) {
  const std::string key = "check-config-e2e-key-0123456789";
  const CommandResult run =
      CheckConfig({kExample, "--require-secrets"}, {{"LEADROUTER_DEDUPE_KEY", key}});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("dedupe.hmac_key_env=LEADROUTER_DEDUPE_KEY (set)"));
  EXPECT_THAT(run.output, Not(HasSubstr(key)));
}

TEST_F(CheckConfigEndToEnd, AnEndlessFileIsRefusedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const CommandResult run = CheckConfig({"/dev/zero"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(run.code, 2) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr("config file /dev/zero: larger than the limit of 4194304 bytes (4 MiB)"));
}

}  // namespace
}  // namespace leadrouter
