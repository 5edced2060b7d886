/* Unit tests for broker/acl_file: the ACL file's grammar, its errors (file:line: reason),
 * filter coverage and the decision by username and attributed source (issue 4 item 5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "acl_file.h"

static ppb_acl *parse(const char *text, char *err, size_t cap)
{
    return ppb_acl_parse(text, strlen(text), "acl", err, cap);
}

static void expect_err(const char *text, const char *want)
{
    char err[256] = "";
    ppb_acl *a = parse(text, err, sizeof(err));
    if (a) {
        ppb_acl_free(a);
        fail_msg("expected error '%s', got OK", want);
    }
    if (!strstr(err, want))
        fail_msg("expected '%s', got '%s'", want, err);
}

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof(s));
    s.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &s.sin_addr);
    return s;
}

static void test_filter_coverage(void **state)
{
    (void)state;
    assert_true(ppb_acl_filter_covers("a/#", "a/b/c"));
    assert_true(ppb_acl_filter_covers("a/#", "a"));
    assert_true(ppb_acl_filter_covers("a/#", "a/#"));
    assert_true(ppb_acl_filter_covers("a/#", "a/+/c"));
    assert_true(ppb_acl_filter_covers("#", "anything/at/all"));
    assert_true(ppb_acl_filter_covers("a/+/c", "a/b/c"));
    assert_true(ppb_acl_filter_covers("a/+/c", "a/+/c"));
    assert_true(ppb_acl_filter_covers("a/b", "a/b"));
    assert_false(ppb_acl_filter_covers("a/b", "a/b/c"));
    assert_false(ppb_acl_filter_covers("a/b", "a/+"));
    assert_false(ppb_acl_filter_covers("a/b", "a/#"));
    assert_false(ppb_acl_filter_covers("a/+/c", "a/#"));
    assert_false(ppb_acl_filter_covers("a/+/c", "a/b/d"));
    assert_false(ppb_acl_filter_covers("a/+", "a/b/c"));
    assert_false(ppb_acl_filter_covers("ab/#", "a/b"));
    assert_true(ppb_acl_filter_covers("a//b", "a//b"));
    assert_false(ppb_acl_filter_covers("a/b", "a//b"));
}

static void test_decisions_by_user_and_source(void **state)
{
    (void)state;
    char err[256];
    ppb_acl *a = parse("# everyone\n"
                       "topic read public/#\n"
                       "\n"
                       "user alice\n"
                       "topic readwrite alice/#\n"
                       "source 203.0.113.0/24\n"
                       "topic write sensors/+/data\n",
                       err, sizeof(err));
    assert_non_null(a);
    struct sockaddr_in in = v4("203.0.113.7"), out = v4("198.51.100.1");
    const struct sockaddr *sin = (const struct sockaddr *)&in, *sout = (const struct sockaddr *)&out;
    assert_true(ppb_acl_check(a, NULL, "c", sout, "public/news", BR_ACL_READ));
    assert_false(ppb_acl_check(a, NULL, "c", sout, "public/news", BR_ACL_WRITE));
    assert_true(ppb_acl_check(a, "alice", "c", sout, "alice/x", BR_ACL_WRITE));
    assert_true(ppb_acl_check(a, "alice", "c", sout, "alice/#", BR_ACL_READ));
    assert_false(ppb_acl_check(a, "bob", "c", sout, "alice/x", BR_ACL_WRITE));
    assert_false(ppb_acl_check(a, NULL, "c", sout, "alice/x", BR_ACL_READ));
    assert_true(ppb_acl_check(a, "bob", "c", sin, "sensors/7/data", BR_ACL_WRITE));
    assert_false(ppb_acl_check(a, "bob", "c", sout, "sensors/7/data", BR_ACL_WRITE));
    assert_false(ppb_acl_check(a, "bob", "c", NULL, "sensors/7/data", BR_ACL_WRITE));
    assert_false(ppb_acl_check(a, "bob", "c", sin, "sensors/7/data", BR_ACL_READ));
    assert_false(ppb_acl_check(a, "alice", "c", sin, "secret", BR_ACL_READ)); /* default deny */
    ppb_acl_free(a);
}

static void test_ipv4_mapped_source_matches(void **state)
{
    (void)state;
    char err[256];
    ppb_acl *a = parse("source 127.0.0.0/8\ntopic read x\n", err, sizeof(err));
    assert_non_null(a);
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:127.0.0.2", &s6.sin6_addr);
    assert_true(ppb_acl_check(a, NULL, "c", (const struct sockaddr *)&s6, "x", BR_ACL_READ));
    ppb_acl_free(a);
}

static void test_errors_name_line(void **state)
{
    (void)state;
    expect_err("topic read a\nbogus x\n", "acl:2: unknown keyword 'bogus'");
    expect_err("topic readwrite\n", "acl:1: expected 'topic read|write|readwrite FILTER'");
    expect_err("topic rw a/b\n", "acl:1: access must be read, write or readwrite, not 'rw'");
    expect_err("topic read a/#/b\n", "acl:1: bad topic filter 'a/#/b'");
    expect_err("topic read a+\n", "acl:1: bad topic filter");
    expect_err("\n\nuser\n", "acl:3: expected 'user NAME'");
    expect_err("user a b\n", "acl:1: expected 'user NAME'");
    expect_err("source 10.0.0.0/33\n", "acl:1: expected 'source CIDR'");
    expect_err("topic read a b c\n", "acl:1: expected 'topic");
    char err[256];
    assert_null(ppb_acl_load("/nonexistent/acl", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/acl: cannot open"));
}

static void test_empty_file_denies_everything(void **state)
{
    (void)state;
    char err[256];
    ppb_acl *a = parse("# nothing granted\n", err, sizeof(err));
    assert_non_null(a);
    assert_false(ppb_acl_check(a, "alice", "c", NULL, "a", BR_ACL_READ));
    ppb_acl_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_coverage),
        cmocka_unit_test(test_decisions_by_user_and_source),
        cmocka_unit_test(test_ipv4_mapped_source_matches),
        cmocka_unit_test(test_errors_name_line),
        cmocka_unit_test(test_empty_file_denies_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
