/* Addresses and CIDRs: skeleton, implementation follows. */
#include "net/addr.h"
#define U(x) (void)(x)
int pn_addr_parse(const char *text, pn_addr *out) { U(text); U(out); return -1; }
int pn_addr_from_ip(const char *ip, uint16_t port, pn_addr *out) { U(ip); U(port); U(out); return -1; }
int pn_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, pn_addr *out) { U(sa); U(len); U(out); return -1; }
int pn_addr_from_bytes(int family, const void *ip, uint16_t port, pn_addr *out) { U(family); U(ip); U(port); U(out); return -1; }
int pn_addr_family(const pn_addr *a) { U(a); return 0; }
uint16_t pn_addr_port(const pn_addr *a) { U(a); return 0; }
void pn_addr_set_port(pn_addr *a, uint16_t port) { U(a); U(port); }
const uint8_t *pn_addr_ip_bytes(const pn_addr *a, size_t *len) { U(a); *len = 0; return 0; }
bool pn_addr_same_ip(const pn_addr *a, const pn_addr *b) { U(a); U(b); return false; }
bool pn_addr_equal(const pn_addr *a, const pn_addr *b) { U(a); U(b); return false; }
void pn_addr_unmap(const pn_addr *in, pn_addr *out) { *out = *in; }
char *pn_addr_to_text(const pn_addr *a, char *buf, size_t cap) { U(a); if (cap) buf[0] = 0; return buf; }
char *pn_addr_ip_text(const pn_addr *a, char *buf, size_t cap) { U(a); if (cap) buf[0] = 0; return buf; }
int pn_cidr_parse(const char *text, pn_cidr *out) { U(text); U(out); return -1; }
bool pn_cidr_match(const pn_cidr *c, const pn_addr *a) { U(c); U(a); return false; }
bool pn_cidr_match_bytes(const pn_cidr *c, int family, const void *ip) { U(c); U(family); U(ip); return false; }
char *pn_cidr_to_text(const pn_cidr *c, char *buf, size_t cap) { U(c); if (cap) buf[0] = 0; return buf; }
int pn_cidr_list_parse(const char *text, pn_cidr_list *out, char *err, size_t errcap) { U(text); U(out); U(err); U(errcap); return -1; }
bool pn_cidr_list_match(const pn_cidr_list *l, const pn_addr *a) { U(l); U(a); return false; }
bool pn_cidr_list_match_bytes(const pn_cidr_list *l, int family, const void *ip) { U(l); U(family); U(ip); return false; }
