#pragma once

#include <atomic>

// The signals the leadrouter daemon handles: SIGTERM and SIGINT stop it, SIGHUP reloads its
// config. They are taken by a dedicated thread (sigwait), so no handler ever runs inside library
// code.
namespace leadrouter::daemon {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread, and so in every thread it starts
// afterwards. Call first thing in main, before any library starts a thread: then a signal at any
// moment of the start-up is a clean stop.
void BlockDaemonSignals();

// Unblocks them again (one-shot commands stop on Ctrl-C as usual).
void UnblockDaemonSignals();

// Starts a detached thread that waits for the blocked signals: SIGHUP sets `reload_requested`
// (and it keeps waiting), SIGTERM or SIGINT sets `stop` (and it ends). The thread may outlive
// main(): both flags must have static storage duration. Call once, after BlockDaemonSignals.
void StartSignalThread(std::atomic<bool>& stop, std::atomic<bool>& reload_requested);

}  // namespace leadrouter::daemon
