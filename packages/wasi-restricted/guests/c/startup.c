// What an ordinary program does at start-up, under the default policy: libc init,
// printf, clocks, random, environment, stdin, and opening files it was never granted.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  printf("argc=%d home=%s\n", argc, getenv("HOME") ? getenv("HOME") : "(none)");
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  clock_gettime(CLOCK_MONOTONIC, &b);
  time_t now = time(NULL);
  printf("clock monotonic_ok=%d realtime_after_2020=%d\n",
         (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)), now > 1577836800);
  unsigned char r[16] = {0};
  int rc = getentropy(r, sizeof r);
  int nonzero = 0;
  for (int i = 0; i < 16; i++) nonzero |= r[i];
  printf("random rc=%d nonzero=%d\n", rc, nonzero != 0);
  errno = 0;
  FILE *f = fopen("/etc/passwd", "r");
  printf("fopen /etc/passwd: %s errno=%d\n", f ? "OPENED" : "failed", errno);
  errno = 0;
  f = fopen("data.txt", "w");
  printf("fopen data.txt: %s errno=%d\n", f ? "OPENED" : "failed", errno);
  printf("stdin: %s\n", getchar() == EOF ? "eof" : "data");
  fprintf(stderr, "to stderr\n");
  return 0;
}
