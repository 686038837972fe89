// A preview1 program as any C toolchain builds it (no ww ABI): it yields, sleeps, then
// takes fresh memory from calloc (which trusts new pages to read as zero) and prints.
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(void) {
  int yields = 0;
  for (int i = 0; i < 3; i++) yields += sched_yield() == 0;
  struct timespec d = { 0, 2 * 1000 * 1000 };
  int slept = nanosleep(&d, NULL) == 0;
  size_t n = 4u << 20;
  unsigned char *p = calloc(n, 1);
  if (p == NULL) return 4;
  size_t dirty = 0;
  for (size_t i = 0; i < n; i++) dirty += p[i] != 0;
  printf("yields=%d slept=%d dirty=%zu\n", yields, slept, dirty);
  return dirty == 0 ? 0 : 3;
}
