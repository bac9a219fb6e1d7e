// leadrouter-kafka-mock: librdkafka's embedded Kafka as a standalone process, for the demo and the
// end-to-end tests. Prints one line "bootstrap=<host:port,...>" on stdout once the topics exist,
// then serves until SIGTERM or SIGINT. For fault tests, SIGUSR1 takes every broker down and
// SIGUSR2 brings them back (each acknowledged by a line "brokers down" / "brokers up" on stdout);
// SIGHUP makes the next Produce request fail with MSG_SIZE_TOO_LARGE, a permanent error
// ("next produce refused").
// Logs go to stderr so stdout stays machine-readable.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "leadrouter/kafka/mock_cluster.h"

namespace {

struct TopicSpec {
  std::string name;
  int partitions = 0;
};

// "NAME:PARTITIONS" -> TopicSpec; false if malformed.
bool ParseTopicSpec(const std::string& text, TopicSpec& spec) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  spec.name = text.substr(0, colon);
  return absl::SimpleAtoi(text.substr(colon + 1), &spec.partitions) && spec.partitions >= 1;
}

// librdkafka's mock brokers leave Nagle's algorithm on for their connections (Kafka's brokers set
// TCP_NODELAY). A response written while the previous one is still unacknowledged then waits for
// the client's delayed ACK, 40 ms on Linux: the last acknowledgements of every produce burst
// arrived 40 ms late, which the benchmarks measured as leadrouter latency. The mock has no hook for
// its sockets, so this sets TCP_NODELAY on every TCP socket of the process until `stop`.
void KeepNagleOff(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
      int fd = -1;
      if (!absl::SimpleAtoi(entry.path().filename().string(), &fd)) continue;
      sockaddr_storage address{};
      socklen_t length = sizeof address;
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) continue;
      if (address.ss_family != AF_INET && address.ss_family != AF_INET6) continue;
      int type = 0;
      socklen_t type_length = sizeof type;
      if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0 || type != SOCK_STREAM) {
        continue;
      }
      const int on = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int Run(int broker_count, const std::vector<std::string>& topic_args) {
  std::vector<TopicSpec> topics;
  for (const std::string& arg : topic_args) {
    TopicSpec spec;
    if (!ParseTopicSpec(arg, spec)) {
      spdlog::error("--topic '{}': expected NAME:PARTITIONS with PARTITIONS >= 1", arg);
      return 2;
    }
    topics.push_back(std::move(spec));
  }

  // Block the stop signals before librdkafka starts its threads (they inherit the mask), so the
  // signals are taken only by sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGUSR1);
  sigaddset(&stop_signals, SIGUSR2);
  sigaddset(&stop_signals, SIGHUP);
  if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    spdlog::error("cannot block SIGTERM/SIGINT");
    return 1;
  }

  auto cluster = leadrouter::kafka::MockCluster::Create(broker_count);
  if (!cluster.ok()) {
    spdlog::error("cannot start the mock cluster: {}", cluster.status().ToString());
    return 1;
  }
  for (const TopicSpec& topic : topics) {
    if (absl::Status status = (*cluster)->CreateTopic(topic.name, topic.partitions); !status.ok()) {
      spdlog::error("{}", status.ToString());
      return 1;
    }
    spdlog::info("topic {} with {} partition(s)", topic.name, topic.partitions);
  }

  std::atomic<bool> stop_sweeping{false};
  std::thread nagle_off([&stop_sweeping] { KeepNagleOff(stop_sweeping); });
  struct JoinOnExit {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~JoinOnExit() {
      stop = true;
      thread.join();
    }
  } join_on_exit{stop_sweeping, nagle_off};

  std::printf("bootstrap=%s\n", (*cluster)->bootstrap_servers().c_str());
  std::fflush(stdout);

  while (true) {
    int received = 0;
    if (sigwait(&stop_signals, &received) != 0) {
      spdlog::error("sigwait failed");
      return 1;
    }
    if (received == SIGHUP) {
      (*cluster)->RefuseNextProduceAsTooLarge();
      std::printf("next produce refused\n");
      std::fflush(stdout);
      continue;
    }
    if (received == SIGUSR1 || received == SIGUSR2) {
      const bool down = received == SIGUSR1;
      if (absl::Status status = (*cluster)->SetBrokersDown(down); !status.ok()) {
        spdlog::error("{}", status.ToString());
        continue;
      }
      std::printf("brokers %s\n", down ? "down" : "up");
      std::fflush(stdout);
      continue;
    }
    spdlog::info("signal {}: shutting down", received);
    return 0;
  }
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("kafka-mock"));

  CLI::App app{"Embedded Kafka (librdkafka mock cluster) for demos and tests"};
  int broker_count = 1;
  std::vector<std::string> topic_args = {"leads.inbound:4", "leads.assignments:4",
                                         "leads.nurture:4", "leads.deadletter:4"};
  app.add_option("--brokers", broker_count, "Number of brokers")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--topic", topic_args, "Topic to create as NAME:PARTITIONS (repeatable)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  return Run(broker_count, topic_args);
}
