/* lib/proxy error table: every enum pp_error value has its stable name, a message and
 * requirement IDs that exist in shared/spec/requirements.md; names map back to codes. */
#include "test_proxy_helpers.h"

/* The names are an interface (logs, reports, scenarios): pinned here, one by one. */
static const struct {
    int code;
    const char *name;
} expected[] = {
    {PP_ERR_NOT_PROXY, "detect.not_proxy"},
    {PP_ERR_VERSION_NOT_ALLOWED, "detect.version_not_allowed"},
    {PP_ERR_TOO_LARGE, "header.too_large"},
    {PP_ERR_TRUNCATED, "header.truncated"},
    {PP_ERR_TIMEOUT, "header.timeout"},
    {PP_ERR_V1_TOO_LONG, "v1.too_long"},
    {PP_ERR_V1_BAD_TERMINATOR, "v1.bad_terminator"},
    {PP_ERR_V1_BAD_SEPARATOR, "v1.bad_separator"},
    {PP_ERR_V1_BAD_PROTOCOL, "v1.bad_protocol"},
    {PP_ERR_V1_BAD_ADDRESS, "v1.bad_address"},
    {PP_ERR_V1_LEADING_ZERO, "v1.leading_zero"},
    {PP_ERR_V1_BAD_PORT, "v1.bad_port"},
    {PP_ERR_V1_FAMILY_MISMATCH, "v1.family_mismatch"},
    {PP_ERR_V1_FIELD_COUNT, "v1.field_count"},
    {PP_ERR_V1_BAD_CHAR, "v1.bad_char"},
    {PP_ERR_V1_UNKNOWN_SUFFIX, "v1.unknown_suffix"},
    {PP_ERR_V2_BAD_SIGNATURE, "v2.bad_signature"},
    {PP_ERR_V2_BAD_VERSION, "v2.bad_version"},
    {PP_ERR_V2_BAD_COMMAND, "v2.bad_command"},
    {PP_ERR_V2_BAD_FAMILY, "v2.bad_family"},
    {PP_ERR_V2_BAD_TRANSPORT, "v2.bad_transport"},
    {PP_ERR_V2_LENGTH_TOO_SMALL, "v2.length_too_small"},
    {PP_ERR_V2_UNSPEC_REJECTED, "v2.unspec_rejected"},
    {PP_ERR_V2_DGRAM_REJECTED, "v2.dgram_rejected"},
    {PP_ERR_TLV_OVERRUN, "tlv.overrun"},
    {PP_ERR_TLV_FRAGMENT, "tlv.fragment"},
    {PP_ERR_TLV_DUPLICATE, "tlv.duplicate"},
    {PP_ERR_TLV_UNIQUE_ID_TOO_LONG, "tlv.unique_id_too_long"},
    {PP_ERR_SSL_TOO_SHORT, "ssl.too_short"},
    {PP_ERR_SSL_SUB_OVERRUN, "ssl.sub_overrun"},
    {PP_ERR_SSL_SUB_FRAGMENT, "ssl.sub_fragment"},
    {PP_ERR_SSL_SUB_DUPLICATE, "ssl.sub_duplicate"},
    {PP_ERR_CRC_BAD_LENGTH, "crc32c.bad_length"},
    {PP_ERR_CRC_MISMATCH, "crc32c.mismatch"},
    {PP_ERR_CRC_MISSING, "crc32c.missing"},
};
#define N_EXPECTED (sizeof expected / sizeof expected[0])

static void test_every_error_has_its_stable_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_EXPECTED; i++) {
        const pp_error_info *e = pp_error_info_get(expected[i].code);
        assert_non_null(e);
        assert_string_equal(e->name, expected[i].name);
        assert_string_equal(pp_error_name(expected[i].code), expected[i].name);
        assert_true(strlen(e->message) > 10);
        assert_null(strchr(e->message, '\n')); /* one line */
        assert_true(strlen(e->refs) > 0);
        assert_int_equal(pp_error_from_name(expected[i].name), expected[i].code);
    }
}

static void test_no_code_outside_the_table(void **state)
{
    (void)state;
    /* every negative code pp_parse could return is in the table, and only those */
    size_t known = 0;
    for (int code = -1; code >= -200; code--) {
        const char *name = pp_error_name(code);
        if (strcmp(name, "unknown") == 0)
            continue;
        known++;
        bool listed = false;
        for (size_t i = 0; i < N_EXPECTED; i++)
            listed = listed || expected[i].code == code;
        if (!listed)
            fail_msg("code %d (%s) is not pinned in this test", code, name);
    }
    assert_int_equal(known, N_EXPECTED);
}

static void test_unknown_codes_and_names(void **state)
{
    (void)state;
    assert_string_equal(pp_error_name(-999), "unknown");
    assert_string_equal(pp_error_name(PP_NEED_MORE), "need_more");
    assert_string_equal(pp_error_name(28), "ok");
    assert_int_equal(pp_error_from_name("v1.no_such_thing"), 0);
    assert_int_equal(pp_error_from_name(""), 0);
    assert_int_equal(pp_error_from_name(NULL), 0);
    assert_int_equal(pp_error_from_name("V1.LEADING_ZERO"), 0); /* exact, case-sensitive */
}

static void test_names_are_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_EXPECTED; i++)
        for (size_t j = i + 1; j < N_EXPECTED; j++)
            assert_string_not_equal(pp_error_name(expected[i].code), pp_error_name(expected[j].code));
}

/* Every ID an error cites exists in the requirements checklist (when it is beside the repo). */
static void test_refs_exist_in_requirements(void **state)
{
    (void)state;
    const char *shared = getenv("PPC_SHARED");
    char path[1024];
    if (shared && *shared)
        snprintf(path, sizeof path, "%s/spec/requirements.md", shared);
    else
        snprintf(path, sizeof path, "%s/../shared/spec/requirements.md", PPC_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        print_message("requirements.md not found at %s: skipped\n", path);
        skip();
    }
    static char text[400000];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    for (size_t i = 0; i < N_EXPECTED; i++) {
        char refs[128];
        snprintf(refs, sizeof refs, "%s", pp_error_info_get(expected[i].code)->refs);
        for (char *save = NULL, *id = strtok_r(refs, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
            char needle[40];
            snprintf(needle, sizeof needle, "| %s |", id);
            if (strstr(text, needle) == NULL)
                fail_msg("%s cites %s, which requirements.md does not define", expected[i].name, id);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_error_has_its_stable_name),
        cmocka_unit_test(test_no_code_outside_the_table),
        cmocka_unit_test(test_unknown_codes_and_names),
        cmocka_unit_test(test_names_are_unique),
        cmocka_unit_test(test_refs_exist_in_requirements),
    };
    return cmocka_run_group_tests_name("proxy_errors", tests, NULL, NULL);
}
