/* Event loop: skeleton, implementation follows. */
#include "net/loop.h"
#include <errno.h>
#include <stdlib.h>
#include <time.h>
uint64_t pn_now_ms(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u; }
pn_loop *pn_loop_new(int max_events) { (void)max_events; errno = ENOSYS; return NULL; }
void pn_loop_free(pn_loop *loop) { (void)loop; }
int pn_loop_watch(pn_loop *loop, int fd, int events, pn_fd_cb cb, void *udata) { (void)loop; (void)fd; (void)events; (void)cb; (void)udata; errno = ENOSYS; return -1; }
int pn_loop_modify(pn_loop *loop, int fd, int events) { (void)loop; (void)fd; (void)events; errno = ENOSYS; return -1; }
int pn_loop_unwatch(pn_loop *loop, int fd) { (void)loop; (void)fd; errno = ENOSYS; return -1; }
int pn_loop_interest(const pn_loop *loop, int fd) { (void)loop; (void)fd; return -1; }
uint64_t pn_timer_add(pn_loop *loop, uint64_t ms, pn_timer_cb cb, void *udata) { (void)loop; (void)ms; (void)cb; (void)udata; return 0; }
bool pn_timer_cancel(pn_loop *loop, uint64_t id) { (void)loop; (void)id; return false; }
size_t pn_timer_count(const pn_loop *loop) { (void)loop; return 0; }
int pn_loop_on_signal(pn_loop *loop, int signo, pn_signal_cb cb, void *udata) { (void)loop; (void)signo; (void)cb; (void)udata; errno = ENOSYS; return -1; }
int pn_loop_run_once(pn_loop *loop, int max_wait_ms) { (void)loop; (void)max_wait_ms; errno = ENOSYS; return -1; }
int pn_loop_run(pn_loop *loop) { (void)loop; errno = ENOSYS; return -1; }
void pn_loop_stop(pn_loop *loop) { (void)loop; }
bool pn_loop_stopped(const pn_loop *loop) { (void)loop; return true; }
