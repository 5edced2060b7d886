/* Outcome classification (see outcome.h). */
#include "outcome.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/sock.h"

static const char *const END_NAMES[] = {"none", "data", "fin", "rst", "timeout", "error"};

const char *pc_end_name(pc_end e)
{
    return (unsigned)e < sizeof END_NAMES / sizeof END_NAMES[0] ? END_NAMES[e] : "?";
}

int pc_end_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof END_NAMES / sizeof END_NAMES[0]; i++)
        if (strcmp(name, END_NAMES[i]) == 0)
            return (int)i;
    return -1;
}

pc_end pc_end_from_io(int io, int err)
{
    switch (io) {
    case PN_IO_OK: return PC_END_DATA;
    case PN_IO_AGAIN: return PC_END_NONE;
    case PN_IO_FIN: return PC_END_FIN;
    case PN_IO_RST: return PC_END_RST;
    default:
        return (err == ECONNRESET || err == EPIPE || err == ECONNABORTED) ? PC_END_RST : PC_END_ERROR;
    }
}

int pc_data_rule_from_name(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "allow") == 0)
        return PC_DATA_ALLOW;
    if (strcmp(name, "forbid") == 0)
        return PC_DATA_FORBID;
    if (strcmp(name, "require") == 0)
        return PC_DATA_REQUIRE;
    return -1;
}

static void accept_text(unsigned accept, char *out, size_t cap)
{
    bool fin = !accept || (accept & (1u << PC_END_FIN));
    bool rst = !accept || (accept & (1u << PC_END_RST));
    snprintf(out, cap, "%s", fin && rst ? "fin or rst" : fin ? "fin" : rst ? "rst" : "nothing");
}

void pc_observed_describe(const pc_observed *obs, char *out, size_t cap)
{
    const char *what = obs->end == PC_END_TIMEOUT ? "timeout (connection still open)" : pc_end_name(obs->end);
    if (obs->bytes_before)
        snprintf(out, cap, "%s after %zu byte%s of data", what, obs->bytes_before, obs->bytes_before == 1 ? "" : "s");
    else
        snprintf(out, cap, "%s", what);
}

bool pc_close_judge(const pc_close_expect *exp, const pc_observed *obs, char *why, size_t whycap,
                    char *expected, size_t expcap)
{
    char acc[32], seen[96];
    accept_text(exp->accept, acc, sizeof acc);
    if (expected)
        snprintf(expected, expcap, "close (%s)%s", acc,
                 exp->data_rule == PC_DATA_FORBID ? " with no data before it"
                 : exp->data_rule == PC_DATA_REQUIRE ? " after some data" : "");
    pc_observed_describe(obs, seen, sizeof seen);
    unsigned accept = exp->accept ? exp->accept : (1u << PC_END_FIN) | (1u << PC_END_RST);
    if (obs->end != PC_END_FIN && obs->end != PC_END_RST) {
        snprintf(why, whycap, "no close: %s", seen);
        return false;
    }
    if (!(accept & (1u << obs->end))) {
        snprintf(why, whycap, "closed with %s, expected %s", pc_end_name(obs->end), acc);
        return false;
    }
    if (exp->data_rule == PC_DATA_FORBID && obs->bytes_before) {
        snprintf(why, whycap, "%s: data came before the close", seen);
        return false;
    }
    if (exp->data_rule == PC_DATA_REQUIRE && !obs->bytes_before) {
        snprintf(why, whycap, "%s: no data came before the close", seen);
        return false;
    }
    snprintf(why, whycap, "%s", seen);
    return true;
}
