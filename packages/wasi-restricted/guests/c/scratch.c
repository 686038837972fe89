// A guest granted a scratch dir: create, write, read, rename, delete, fill it up to its
// quota, then try to get out of it, then proc_exit(3).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void try_open(const char *label, const char *path, int flags) {
  errno = 0;
  int fd = open(path, flags, 0644);
  printf("escape %s: %s errno=%d\n", label, fd >= 0 ? "OPENED" : "refused", errno);
  if (fd >= 0) close(fd);
}

int main(void) {
  FILE *f = fopen("/scratch/notes.txt", "w");
  if (!f) { printf("create failed errno=%d\n", errno); return 1; }
  fputs("first line\n", f);
  fclose(f);
  if (rename("/scratch/notes.txt", "/scratch/renamed.txt") != 0) { printf("rename failed errno=%d\n", errno); return 1; }
  char buf[64] = {0};
  f = fopen("/scratch/renamed.txt", "r");
  fgets(buf, sizeof buf, f);
  fclose(f);
  printf("read back: %s", buf);
  mkdir("/scratch/dir", 0755);
  struct stat st;
  printf("stat dir: %d\n", stat("/scratch/dir", &st) == 0 && S_ISDIR(st.st_mode));
  printf("unlink: %d exists_after=%d\n", unlink("/scratch/renamed.txt"), access("/scratch/renamed.txt", F_OK) == 0);

  // Fill the quota.
  int fd = open("/scratch/big.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  static char chunk[1000];
  memset(chunk, 'x', sizeof chunk);
  long total = 0;
  for (;;) {
    errno = 0;
    ssize_t n = write(fd, chunk, sizeof chunk);
    if (n <= 0) { printf("quota: wrote %ld bytes then errno=%d (%s)\n", total, errno, errno == ENOSPC ? "ENOSPC" : "other"); break; }
    total += n;
  }
  close(fd);
  unlink("/scratch/big.bin");

  // Escape attempts.
  try_open("/etc/passwd", "/etc/passwd", O_RDONLY);
  try_open("dotdot", "/scratch/../etc/passwd", O_RDONLY);
  try_open("dotdot-create", "/scratch/dir/../../escaped.txt", O_WRONLY | O_CREAT);
  symlink("/etc/passwd", "/scratch/abs-link");
  try_open("abs-symlink", "/scratch/abs-link", O_RDONLY);
  symlink("../../../../tmp", "/scratch/up-link");
  try_open("rel-symlink", "/scratch/up-link/escaped.txt", O_WRONLY | O_CREAT);
  fflush(stdout);
  exit(3);
}
