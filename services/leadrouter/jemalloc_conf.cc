// jemalloc's built-in configuration for the daemon (read at startup; MALLOC_CONF in the
// environment still overrides it). Two arenas: the hot path is one consumer thread, and the
// default of four per core multiplied the memory held by gRPC's and librdkafka's threads (a
// 100,000-lead drain: peak RSS 115 -> 94 MB). Freed pages go back to the system over jemalloc's
// default ten seconds: returning them within a second cost ~10% of a draining daemon's CPU in
// madvise calls and page faults on the next batch's buffers, for ~6 MB of RSS. Linked only with
// jemalloc.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
extern const char* malloc_conf;
const char* malloc_conf = "narenas:2,dirty_decay_ms:10000,muzzy_decay_ms:0";
}
