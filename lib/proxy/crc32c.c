/* CRC32C (Castagnoli, reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF:
 * RFC 4960 Appendix B, R-CRC-03). The SSE4.2 crc32 instruction when the CPU has it, chosen
 * once at start-up; a byte-wise table otherwise. Check value: crc32c("123456789") = 0xE3069283.
 */
#include "proxy/parse_internal.h"

#include <string.h>

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[256];

static void build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1u)));
        crc_table[i] = c;
    }
}

static uint32_t update_table(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define HAVE_SSE42_PATH 1

/* Long inputs run as three independent crc32 chains over consecutive LANE-byte blocks (the
 * instruction has a latency of 3 and a throughput of 1), joined with "shift the register
 * over LANE zero bytes", a linear map kept as 4 byte tables. */
#define LANE 256
static uint32_t shift_lane[4][256];

static void build_shift_tables(void)
{
    static const uint8_t zeros[LANE];
    for (unsigned k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            shift_lane[k][b] = update_table(b << (8 * k), zeros, LANE);
}

static inline uint32_t shift_over_lane(uint32_t c)
{
    return shift_lane[0][c & 0xFF] ^ shift_lane[1][(c >> 8) & 0xFF] ^ shift_lane[2][(c >> 16) & 0xFF] ^
           shift_lane[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t update_sse42(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n >= 3 * LANE) {
        uint64_t a = crc, b = 0, c = 0;
        for (size_t i = 0; i < LANE; i += 8) {
            uint64_t wa, wb, wc;
            memcpy(&wa, p + i, 8);
            memcpy(&wb, p + LANE + i, 8);
            memcpy(&wc, p + 2 * LANE + i, 8);
            a = _mm_crc32_u64(a, wa);
            b = _mm_crc32_u64(b, wb);
            c = _mm_crc32_u64(c, wc);
        }
        /* register after A|B|C = shift(shift(A) ^ B) ^ C, B and C started from 0 */
        crc = shift_over_lane(shift_over_lane((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
        p += 3 * LANE;
        n -= 3 * LANE;
    }
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8); /* unaligned-safe load */
        c = _mm_crc32_u64(c, w);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        c32 = _mm_crc32_u32(c32, w);
        p += 4;
        n -= 4;
    }
    while (n--)
        c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}
#endif

typedef uint32_t (*crc_update_fn)(uint32_t, const uint8_t *, size_t);
static crc_update_fn crc_update = update_table;

/* Runs before main, so the choice is made once and never raced. */
__attribute__((constructor)) static void crc32c_init(void)
{
    build_table();
#ifdef HAVE_SSE42_PATH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) {
        build_shift_tables();
        crc_update = update_sse42;
    }
#endif
}

uint32_t pp_crc32c_update(uint32_t crc, const uint8_t *data, size_t len)
{
    return crc_update(crc, data, len);
}

uint32_t pp_crc32c(const uint8_t *data, size_t len)
{
    return crc_update(0xFFFFFFFFu, data, len) ^ 0xFFFFFFFFu;
}

/* R-CRC-05: the CRC of the header with the stored value counted as zero, without copying:
 * the prefix, four zero bytes, then the suffix. */
uint32_t pp_crc32c_header(const uint8_t *hdr, size_t len, size_t value_off)
{
    static const uint8_t zeros[4];
    if (value_off > len || len - value_off < 4)
        return pp_crc32c(hdr, len); /* no room for a value there: nothing to zero */
    uint32_t c = crc_update(0xFFFFFFFFu, hdr, value_off);
    c = crc_update(c, zeros, 4);
    c = crc_update(c, hdr + value_off + 4, len - value_off - 4);
    return c ^ 0xFFFFFFFFu;
}

uint32_t pp_crc32c_table_only(const uint8_t *data, size_t len)
{
    return update_table(0xFFFFFFFFu, data, len) ^ 0xFFFFFFFFu;
}
