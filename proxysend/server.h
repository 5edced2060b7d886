/* Server-side plumbing shared by --listen and --relay: the listening socket, the ready file,
 * a bounded backend connect, stop-on-signal. */
#ifndef PROXYSEND_SERVER_H
#define PROXYSEND_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "proxy/proxy.h"

extern volatile sig_atomic_t ps_stop_requested;

/* Catch SIGINT/SIGTERM (sets ps_stop_requested), ignore SIGPIPE. */
void ps_install_stop_handlers(void);
/* Bound, listening, non-blocking socket on ADDR (HOST:PORT; port 0 picks one). -1 with err. */
int ps_listen_on(const char *addr, pp_endpoint *bound, char *err, size_t cap);
/* Write "IP:PORT\n" to path atomically (path.tmp + rename). */
int ps_write_ready_file(const char *path, const pp_endpoint *bound);
/* Non-blocking connect to HOST:PORT, waiting at most timeout_ms. Returns the fd or -1. */
int ps_connect_nb(const char *hostport, unsigned timeout_ms, char *err, size_t cap);
/* "ip:port" / "[ip6]:port" for a connected socket's peer (peer=true) or local address. */
void ps_sock_addr_text(int fd, bool peer, pp_endpoint *ep, char *out, size_t cap);

#endif
