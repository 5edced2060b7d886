/* lib/net/addr.h: socket addresses as values, their text forms, and CIDR matching.
 *
 * pn_addr wraps a sockaddr_storage (IPv4 or IPv6, with port). Text forms are
 * "192.0.2.1:1883" and "[2001:db8::1]:1883". CIDRs are "127.0.0.0/8", "::1/128", or a bare
 * address (= /32 or /128). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 CIDRs,
 * because a dual-stack listener sees IPv4 peers that way (R-SEC-02 trusted-source lists).
 * Nothing here allocates.
 */
#ifndef PN_ADDR_H
#define PN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "[" + 45-char IPv6 text + "]:" + 5 digits + NUL, rounded up. */
#define PN_ADDR_TEXT_MAX 64

typedef struct pn_addr {
    struct sockaddr_storage ss; /* AF_INET or AF_INET6; AF_UNSPEC when empty */
    socklen_t len;              /* sizeof(sockaddr_in) or sizeof(sockaddr_in6); 0 when empty */
} pn_addr;

/* "ip:port" or "[v6]:port" (port 0..65535 in decimal, required). 0 on success, -1 on bad text. */
int pn_addr_parse(const char *text, pn_addr *out);
/* A bare IP ("127.0.0.2", "::1", also "[::1]") plus a port. 0 or -1. */
int pn_addr_from_ip(const char *ip, uint16_t port, pn_addr *out);
/* Copy from a kernel sockaddr (accept, getpeername, recvfrom). 0, or -1 for other families. */
int pn_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, pn_addr *out);
/* Raw network-order address bytes (4 for AF_INET, 16 for AF_INET6), e.g. from a PROXY header. */
int pn_addr_from_bytes(int family, const void *ip, uint16_t port, pn_addr *out);

static inline const struct sockaddr *pn_addr_sa(const pn_addr *a) { return (const struct sockaddr *)&a->ss; }
int pn_addr_family(const pn_addr *a);            /* AF_INET, AF_INET6 or AF_UNSPEC */
uint16_t pn_addr_port(const pn_addr *a);          /* host order */
void pn_addr_set_port(pn_addr *a, uint16_t port);
/* Pointer to the raw address bytes (4 or 16) and their count; NULL when empty. */
const uint8_t *pn_addr_ip_bytes(const pn_addr *a, size_t *len);
/* Same IP (a mapped ::ffff:a.b.c.d equals a.b.c.d); pn_addr_equal compares ports too. */
bool pn_addr_same_ip(const pn_addr *a, const pn_addr *b);
bool pn_addr_equal(const pn_addr *a, const pn_addr *b);
/* IPv4-mapped IPv6 -> plain IPv4 (port kept); other addresses are copied unchanged. */
void pn_addr_unmap(const pn_addr *in, pn_addr *out);

/* "ip:port" / "[v6]:port" into buf (cap >= PN_ADDR_TEXT_MAX is always enough). Returns buf;
 * "?" in buf when the address is empty or cap too small. */
char *pn_addr_to_text(const pn_addr *a, char *buf, size_t cap);
/* Just the IP ("127.0.0.1", "::1"), no brackets. Returns buf. */
char *pn_addr_ip_text(const pn_addr *a, char *buf, size_t cap);

/* ---- CIDR --------------------------------------------------------------------------- */

typedef struct pn_cidr {
    int family;          /* AF_INET or AF_INET6 */
    uint8_t addr[16];    /* network address, host bits cleared (first 4 bytes for IPv4) */
    unsigned prefix;     /* 0..32 or 0..128 */
} pn_cidr;

/* "a.b.c.d/n", "v6/n", or a bare address. Rejects bad prefixes ("/33", "/", "/08"),
 * surrounding spaces and trailing junk. Host bits set in the address are cleared (so
 * "10.1.2.3/8" = 10.0.0.0/8). 0 or -1. */
int pn_cidr_parse(const char *text, pn_cidr *out);
bool pn_cidr_match(const pn_cidr *c, const pn_addr *a);
/* Match raw address bytes (4 or 16, network order), e.g. a PROXY-carried source. */
bool pn_cidr_match_bytes(const pn_cidr *c, int family, const void *ip);
/* "127.0.0.0/8" / "::1/128" into buf. */
char *pn_cidr_to_text(const pn_cidr *c, char *buf, size_t cap);

#define PN_CIDR_LIST_MAX 64
typedef struct pn_cidr_list {
    pn_cidr items[PN_CIDR_LIST_MAX];
    size_t count;
} pn_cidr_list;

/* "a, b, c" (commas, optional spaces/tabs around items). An empty or all-blank text gives
 * an empty list (which matches nothing). On a bad item: -1 and err names it, e.g.
 * "bad CIDR '10.0.0.0/33' (item 2)". More than PN_CIDR_LIST_MAX items is an error too. */
int pn_cidr_list_parse(const char *text, pn_cidr_list *out, char *err, size_t errcap);
bool pn_cidr_list_match(const pn_cidr_list *l, const pn_addr *a);
bool pn_cidr_list_match_bytes(const pn_cidr_list *l, int family, const void *ip);

#endif
