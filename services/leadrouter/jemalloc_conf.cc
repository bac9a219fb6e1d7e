// jemalloc's built-in configuration for the daemon (read at startup; MALLOC_CONF in the
// environment still overrides it). Two arenas: the hot path is one consumer thread, and the
// default of four per core multiplied the memory held by gRPC's and librdkafka's threads. Freed
// pages go back to the system after a second instead of ten. In a 100,000-lead drain this took
// peak RSS from 115 to 94 MB at the same throughput (BENCHMARKS.md). Linked only with jemalloc.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
extern const char* malloc_conf;
const char* malloc_conf = "narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
