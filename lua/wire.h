/* lua/wire.h: the per-run wire log, kept so a failed case can be replayed as evidence
 * (a synthetic pcap and a transcript). Records are appended by the socket layer:
 *   u8 kind, u8 dir, u16 conn, u64 t_us (since the run started), u32 len, len bytes.
 * OPEN carries "local|peer" address text; DATA carries the bytes. */
#ifndef PC_WIRE_H
#define PC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

enum pc_wire_kind {
    PC_WIRE_OPEN = 0, PC_WIRE_DATA, PC_WIRE_FIN, PC_WIRE_RST, /* from the peer or us, by dir */
};
enum pc_wire_dir { PC_WIRE_C2S = 0, PC_WIRE_S2C = 1 };

typedef struct pc_wire_rec {
    uint8_t kind, dir;
    uint16_t conn;
    uint64_t t_us;
    const uint8_t *data;
    uint32_t len;
} pc_wire_rec;

void pc_wire_append(pc_sbuf *log, uint8_t kind, uint8_t dir, uint16_t conn, uint64_t t_us,
                    const void *data, uint32_t len);
/* Iterate: *off starts at 0; returns 1 with rec filled, 0 at the end or on a torn record. */
int pc_wire_next(const pc_sbuf *log, size_t *off, pc_wire_rec *rec);

#endif
