// Sleeps twice (poll_oneoff clock subscriptions) and reports elapsed monotonic time. Run
// under asyncify, each sleep suspends the guest while the host's event loop keeps going.
#include <stdio.h>
#include <time.h>
#include <unistd.h>

// The ww guest ABI's asyncify data ({ current, end } then the stack area), exported as a
// data address (-Wl,--export=ww_asyncify_area): an exported C function would be wrapped by
// wasm-ld's command-export shim, which re-runs constructors on every call.
struct { int *current; int *end; int stack[4096]; } ww_asyncify_area = { 0, ww_asyncify_area.stack + 4096 };

int main(void) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  usleep(20000);
  struct timespec ts = {0, 10000000};
  nanosleep(&ts, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  printf("slept_ms=%ld\n", ms);
  return 0;
}
