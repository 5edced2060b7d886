/* The per-run wire log (see wire.h). */
#include "wire.h"

#include <string.h>

void pc_wire_append(pc_sbuf *log, uint8_t kind, uint8_t dir, uint16_t conn, uint64_t t_us,
                    const void *data, uint32_t len)
{
    uint8_t head[16];
    if (log->max && log->len + sizeof head + len > log->max) {
        log->truncated = true; /* keep the log parseable: drop whole records */
        return;
    }
    head[0] = kind;
    head[1] = dir;
    memcpy(head + 2, &conn, 2);
    memcpy(head + 4, &t_us, 8);
    memcpy(head + 12, &len, 4);
    pc_sbuf_add(log, head, sizeof head);
    if (len)
        pc_sbuf_add(log, data, len);
}

int pc_wire_next(const pc_sbuf *log, size_t *off, pc_wire_rec *rec)
{
    if (!log->data || *off + 16 > log->len)
        return 0;
    const uint8_t *p = (const uint8_t *)log->data + *off;
    rec->kind = p[0];
    rec->dir = p[1];
    memcpy(&rec->conn, p + 2, 2);
    memcpy(&rec->t_us, p + 4, 8);
    memcpy(&rec->len, p + 12, 4);
    if (*off + 16 + rec->len > log->len)
        return 0;
    rec->data = p + 16;
    *off += 16 + rec->len;
    return 1;
}
