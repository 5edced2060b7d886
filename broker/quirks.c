/* broker/quirks: the registry of deliberate defects (see quirks.h). */
#include "quirks.h"

#include <string.h>

static const struct {
    unsigned bit;
    const char *name;
    const char *help;
} QUIRKS[PPB_QUIRK_COUNT] = {
    {Q_ACCEPT_MISSING_HEADER, "accept-missing-header", "serve clients that send no header on a PROXY listener"},
    {Q_ACCEPT_HEADER_ON_PLAIN, "accept-header-on-plain-listener", "guess and use a PROXY header on a plain listener"},
    {Q_IGNORE_CRC32C, "ignore-crc32c", "do not verify CRC32C TLVs"},
    {Q_TRUST_UNVERIFIED_CN, "trust-unverified-cn", "take the SSL CN as username without client flags or verify"},
    {Q_CN_NUL_TRUNCATE, "cn-nul-truncate", "cut the CN at its first NUL instead of refusing it"},
    {Q_LENIENT_V1_GRAMMAR, "lenient-v1-grammar", "accept bare LF, extra spaces, lower case and leading zeros in v1"},
    {Q_NO_HEADER_TIMEOUT, "no-header-timeout", "never close a connection that sends no header"},
    {Q_DECODE_BEFORE_COMPLETE, "decode-before-complete", "decode v1 before its CRLF and v2 before its TLVs arrive"},
    {Q_WRONG_ADDRESS_ON_SPLIT, "wrong-address-on-split", "a v2 header split in its address block gets a wrong address"},
    {Q_CLOSE_ON_LOCAL, "close-on-local", "close LOCAL connections (health checks)"},
    {Q_ACCEPT_UNKNOWN_COMMAND, "accept-unknown-command", "treat v2 commands 0x2-0xF as PROXY"},
    {Q_LAST_DUPLICATE_TLV_WINS, "last-duplicate-tlv-wins", "accept duplicated TLVs and use the last one"},
};

unsigned ppb_quirk_from_name(const char *name)
{
    for (size_t i = 0; i < PPB_QUIRK_COUNT; i++)
        if (strcmp(QUIRKS[i].name, name) == 0)
            return QUIRKS[i].bit;
    return 0;
}

const char *ppb_quirk_name(unsigned bit)
{
    for (size_t i = 0; i < PPB_QUIRK_COUNT; i++)
        if (QUIRKS[i].bit == bit)
            return QUIRKS[i].name;
    return "?";
}

unsigned ppb_quirk_at(size_t i)
{
    return i < PPB_QUIRK_COUNT ? QUIRKS[i].bit : 0;
}

const char *ppb_quirk_help(size_t i)
{
    return i < PPB_QUIRK_COUNT ? QUIRKS[i].help : "";
}
