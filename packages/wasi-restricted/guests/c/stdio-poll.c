// Issue 17: what C's stdio and fd code meets under the default policy — poll() on stdio
// (stdout/stderr writable, stdin at end of file readable), mixed with a timeout; and the
// errno of calls on fds that are not open (EBADF) vs open but outside the policy.
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show_poll(const char *label, struct pollfd *fds, int n, int timeout) {
  int r = poll(fds, n, timeout);
  printf("%s: rc=%d", label, r);
  for (int i = 0; i < n; i++) {
    short e = fds[i].revents;
    printf(" fd%d=%s%s%s%s", fds[i].fd, e & POLLIN ? "IN" : "", e & POLLOUT ? "OUT" : "", e & POLLHUP ? "HUP" : "", e & POLLNVAL ? "NVAL" : "");
    if (!e) printf("-");
  }
  printf(" errno=%d\n", r < 0 ? errno : 0);
}

int main(void) {
  struct pollfd out[2] = {{1, POLLOUT, 0}, {2, POLLOUT, 0}};
  show_poll("stdout+stderr", out, 2, 0);
  struct pollfd in[1] = {{0, POLLIN, 0}};
  show_poll("stdin", in, 1, 1000);
  struct pollfd all[3] = {{0, POLLIN, 0}, {1, POLLOUT, 0}, {2, POLLOUT, 0}};
  show_poll("all, 5 s timeout", all, 3, 5000);
  fflush(stdout);

  errno = 0; int r = shutdown(7, SHUT_RDWR);
  printf("shutdown(7): rc=%d errno=%s\n", r, errno == EBADF ? "EBADF" : strerror(errno));
  errno = 0; r = shutdown(1, SHUT_RDWR);
  printf("shutdown(1): rc=%d errno=%s\n", r, errno == ENOTCAPABLE ? "ENOTCAPABLE" : errno == ENOTSOCK ? "ENOTSOCK" : strerror(errno));
  errno = 0; r = close(9);
  printf("close(9): rc=%d errno=%s\n", r, errno == EBADF ? "EBADF" : strerror(errno));
  char c;
  errno = 0; r = (int)read(12, &c, 1);
  printf("read(12): rc=%d errno=%s\n", r, errno == EBADF ? "EBADF" : strerror(errno));
  return 0;
}
