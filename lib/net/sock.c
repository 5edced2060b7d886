/* Socket helpers: skeleton, implementation follows. */
#include "net/sock.h"
#include <errno.h>
#define U(x) (void)(x)
int pn_listen(const pn_addr *addr, int backlog, int flags, pn_addr *bound, char *err, size_t errcap) { U(addr); U(backlog); U(flags); U(bound); U(err); U(errcap); return -1; }
int pn_accept(int listen_fd, pn_addr *peer) { U(listen_fd); U(peer); errno = ENOSYS; return -1; }
int pn_connect(const pn_addr *dst, const pn_addr *src, bool *in_progress, char *err, size_t errcap) { U(dst); U(src); U(in_progress); U(err); U(errcap); return -1; }
int pn_connect_result(int fd) { U(fd); return ENOSYS; }
int pn_set_nonblock(int fd, bool on) { U(fd); U(on); return -1; }
int pn_set_nodelay(int fd, bool on) { U(fd); U(on); return -1; }
int pn_shutdown_write(int fd) { U(fd); return -1; }
int pn_close_rst(int fd) { U(fd); return -1; }
int pn_peer_addr(int fd, pn_addr *out) { U(fd); U(out); return -1; }
int pn_local_addr(int fd, pn_addr *out) { U(fd); U(out); return -1; }
const char *pn_io_name(pn_io io) { U(io); return "?"; }
pn_io pn_recv(int fd, void *buf, size_t cap, size_t *n) { U(fd); U(buf); U(cap); *n = 0; return PN_IO_ERROR; }
pn_io pn_send(int fd, const void *buf, size_t len, size_t *n) { U(fd); U(buf); U(len); *n = 0; return PN_IO_ERROR; }
pn_io pn_recv_buf(int fd, pn_buf *b, size_t *n) { U(fd); U(b); *n = 0; return PN_IO_ERROR; }
pn_io pn_send_buf(int fd, pn_buf *b, size_t *n) { U(fd); U(b); *n = 0; return PN_IO_ERROR; }
