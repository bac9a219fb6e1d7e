#include "leadrouter/daemon/signals.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

namespace leadrouter::daemon {
namespace {

sigset_t DaemonSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  return signals;
}

}  // namespace

void BlockDaemonSignals() {
  const sigset_t signals = DaemonSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

void UnblockDaemonSignals() {
  const sigset_t signals = DaemonSignals();
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
}

void StartSignalThread(std::atomic<bool>& stop, std::atomic<bool>& reload_requested) {
  std::thread([&stop, &reload_requested] {
    const sigset_t signals = DaemonSignals();
    while (true) {
      int received = 0;
      if (sigwait(&signals, &received) != 0) continue;
      if (received == SIGHUP) {
        reload_requested.store(true);
        continue;
      }
      stop.store(true);
      return;
    }
  }).detach();
}

}  // namespace leadrouter::daemon
