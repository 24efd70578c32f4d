// jemalloc's start-up options for the gRPC services, which link jemalloc instead of glibc
// malloc (common/CMakeLists.txt, target alliance_jemalloc). A burst of large requests (an
// attack, a bulk import) frees hundreds of MiB at once; these options make that memory go back
// to the system within about a second, also when the process is idle afterwards:
// - background_thread: jemalloc's own thread purges freed pages. Without it purging happens
//   only during later allocations, so memory freed by a burst stayed resident.
// - dirty_decay_ms: freed pages are returned over about 1 s instead of 10 s, so a sustained
//   stream of large refused requests does not pile up as freed-but-resident memory.
// The MALLOC_CONF environment variable still overrides them.
extern "C" {
__attribute__((used)) const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000";
}
