/* pp_parse: version detection and dispatch (R-DET-01..05).
 *
 * The first byte decides: 'P' can only start a v1 line, 0x0D only the v2 signature, and
 * anything else is refused at once, so a 14-byte MQTT CONNECT never waits for a 16th byte
 * (R-DET-04, R-V1-27). The version parsers check every further byte as it arrives.
 */
#include "proxy/parse_internal.h"

const uint8_t PP_V2_SIGNATURE[PP_V2_SIG_LEN] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static const pp_options strict_defaults; /* all zero: the recommended strict policy */

ssize_t pp_parse(const uint8_t *buf, size_t len, const pp_options *opts, pp_header *out)
{
    if (len == 0)
        return PP_NEED_MORE;
    if (opts == NULL)
        opts = &strict_defaults;
    unsigned versions = opts->versions ? opts->versions : (PP_ALLOW_V1 | PP_ALLOW_V2);

    if (buf[0] == 'P') {
        if (!(versions & PP_ALLOW_V1))
            return PP_ERR_VERSION_NOT_ALLOWED; /* the first byte already says v1 (EC-S-07) */
        return pp_parse_v1(buf, len, opts, out);
    }
    if (buf[0] == 0x0D) {
        if (!(versions & PP_ALLOW_V2))
            return PP_ERR_VERSION_NOT_ALLOWED;
        return pp_parse_v2(buf, len, opts, out);
    }
    return PP_ERR_NOT_PROXY;
}
