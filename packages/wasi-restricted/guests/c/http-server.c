// An HTTP/1.1 keep-alive server over wasi-libc's accept/recv/send/poll, on the listener its
// spawner granted as fd 3. One thread, non-blocking sockets, one poll() for everything: a
// slow client never stalls the others. Answers every request with a small text body that
// echoes the path; GET /big streams 32 MiB, more than loopback TCP buffers absorb (to test a
// slow reader). Exits 0 when the listener is closed. Built with asyncify: a poll() with
// nothing ready suspends the guest.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

// The ww guest ABI's asyncify data area (see sleep.c).
struct { int *current; int *end; int stack[4096]; } ww_asyncify_area = { 0, ww_asyncify_area.stack + 4096 };

#define LISTENER 3
#define MAX_CONNS 512
#define IN_CAP 8192
#define OUT_CAP 16384
#define BIG_BYTES (32 << 20)

struct conn {
  int fd;            // -1: free slot
  int in_len;
  int out_len, out_off;
  long big_left;     // bytes of /big still to generate
  int close_after;   // close once the output is flushed
  char in[IN_CAP];
  char out[OUT_CAP];
};

static struct conn conns[MAX_CONNS];
static struct pollfd pfds[MAX_CONNS + 1];
static int slot_of[MAX_CONNS + 1];

static void drop(struct conn *c) { close(c->fd); c->fd = -1; }

static void refill(struct conn *c) {
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  while (c->big_left > 0 && c->out_len < OUT_CAP) {
    long n = OUT_CAP - c->out_len;
    if (n > c->big_left) n = c->big_left;
    memset(c->out + c->out_len, 'x', n);
    c->out_len += n; c->big_left -= n;
  }
}

// Sends what is pending; 0 when all sent or would block, -1 when the connection is gone.
static int flush(struct conn *c) {
  for (;;) {
    refill(c);
    if (c->out_off == c->out_len) return 0;
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, 0);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->out_off += n;
  }
}

static int header_is(const char *h, const char *end, const char *name, const char *value) {
  size_t nl = strlen(name), vl = strlen(value);
  if (end - h < (long)(nl + vl) || strncasecmp(h, name, nl) != 0) return 0;
  const char *v = h + nl;
  while (v < end && *v == ' ') v++;
  return (size_t)(end - v) >= vl && strncasecmp(v, value, vl) == 0;
}

// Answers every complete request in c->in. Returns -1 on a malformed one.
static int serve(struct conn *c) {
  for (;;) {
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (end == NULL) return c->in_len == IN_CAP ? -1 : 0;
    if (c->out_len - c->out_off > OUT_CAP / 2 || c->big_left > 0) return 0; // pipelined: wait for room
    char *sp1 = memchr(c->in, ' ', end - c->in);
    char *sp2 = sp1 ? memchr(sp1 + 1, ' ', end - sp1 - 1) : NULL;
    if (sp2 == NULL) return -1;
    int http10 = strncmp(sp2 + 1, "HTTP/1.0", 8) == 0;
    int close_req = http10;
    long body = 0;
    for (char *h = memchr(c->in, '\n', end - c->in); h != NULL && h < end; h = memchr(h, '\n', end + 2 - h)) {
      h++;
      char *eol = memchr(h, '\r', end + 2 - h);
      if (eol == NULL) break;
      if (header_is(h, eol, "connection:", "close")) close_req = 1;
      if (header_is(h, eol, "connection:", "keep-alive")) close_req = 0;
      if (strncasecmp(h, "content-length:", 15) == 0) body = strtol(h + 15, NULL, 10);
    }
    long used = end + 4 - c->in + body;
    if (body < 0 || used > IN_CAP) return -1;
    if (used > c->in_len) return 0; // the body is still coming
    int plen = (int)(sp2 - sp1 - 1);
    if (plen > 1024) plen = 1024;
    int big = plen == 4 && strncmp(sp1 + 1, "/big", 4) == 0;
    char bodybuf[1100];
    int blen = big ? 0 : snprintf(bodybuf, sizeof bodybuf, "hello from a ww guest\npath=%.*s\n", plen, sp1 + 1);
    int room = OUT_CAP - c->out_len;
    int n = snprintf(c->out + c->out_len, room, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %ld\r\n%s\r\n%.*s",
                     big ? (long)BIG_BYTES : (long)blen, close_req ? "Connection: close\r\n" : "", blen, bodybuf);
    if (n >= room) return -1;
    c->out_len += n;
    if (big) c->big_left = BIG_BYTES;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (close_req) { c->close_after = 1; c->in_len = 0; return 0; }
  }
}

int main(void) {
  for (int i = 0; i < MAX_CONNS; i++) conns[i].fd = -1;
  if (fcntl(LISTENER, F_SETFL, O_NONBLOCK) != 0) { printf("no listener on fd 3: errno=%d\n", errno); return 2; }
  printf("listening\n");
  fflush(stdout);
  int open_conns = 0;
  for (;;) {
    int np = 0;
    if (open_conns < MAX_CONNS) { pfds[np] = (struct pollfd){ LISTENER, POLLIN, 0 }; slot_of[np++] = -1; }
    for (int i = 0; i < MAX_CONNS; i++) {
      struct conn *c = &conns[i];
      if (c->fd < 0) continue;
      short ev = 0;
      if (!c->close_after && c->in_len < IN_CAP) ev |= POLLIN;
      if (c->out_off < c->out_len || c->big_left > 0) ev |= POLLOUT;
      if (ev == 0) ev = POLLIN;
      pfds[np] = (struct pollfd){ c->fd, ev, 0 }; slot_of[np++] = i;
    }
    if (poll(pfds, np, -1) < 0) { printf("poll failed: errno=%d\n", errno); return 1; }
    for (int k = 0; k < np; k++) {
      short re = pfds[k].revents;
      if (re == 0) continue;
      if (slot_of[k] < 0) {
        for (;;) {
          struct sockaddr_storage sa; socklen_t sl = sizeof sa;
          int fd = accept4(LISTENER, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK);
          if (fd < 0) {
            if (errno == EAGAIN) break;
            printf("listener closed: errno=%d\n", errno);
            return 0;
          }
          int i = 0;
          while (i < MAX_CONNS && conns[i].fd >= 0) i++;
          if (i == MAX_CONNS) { close(fd); break; }
          conns[i] = (struct conn){ .fd = fd };
          open_conns++;
        }
        continue;
      }
      struct conn *c = &conns[slot_of[k]];
      int dead = 0;
      if (re & (POLLIN | POLLHUP | POLLERR)) {
        if (c->close_after || c->in_len == IN_CAP) {
          // Not reading: only a hangup matters here.
          if (re & (POLLHUP | POLLERR)) dead = 1;
        } else {
          ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
          if (n == 0 || (n < 0 && errno != EAGAIN)) dead = 1;
          else if (n > 0) { c->in_len += n; if (serve(c) < 0) dead = 1; }
        }
      }
      if (!dead && flush(c) < 0) dead = 1;
      if (!dead && c->big_left == 0 && c->out_off == c->out_len) {
        if (c->close_after) dead = 1;
        else if (c->in_len > 0 && serve(c) < 0) dead = 1; // requests held back while output was pending
        else if (flush(c) < 0) dead = 1;
      }
      if (dead) { drop(c); open_conns--; }
    }
  }
}
