/*
 * test_scope.c - unit tests of common/tthc_scope: role names, role lists, and
 * for every role what it may and may not see or do
 * (docs/contracts-identity.md "Scope").
 */
#include "tthc_test.h"
#include "tthc_scope.h"

#define A_TP   "000.00.31.H41"      /* Sở Tư pháp */
#define A_KH   "000.00.12.H41"      /* Sở Kế hoạch và Đầu tư */
#define A_ND   "000.00.36.H41"      /* UBND huyện Nam Đàn */


static void
test_role_names(void **state)
{
    static const char *const  names[] = {
        "desk_officer", "handling_official", "department_head", "agency_leader",
        "agency_admin", "monitor", "sysadmin"
    };
    unsigned                  i, bit;

    (void) state;

    for (i = 0; i < 7; i++) {
        bit = tthc_role_from_name(names[i], strlen(names[i]));
        assert_int_equal(bit, 1u << i);
        assert_string_equal(tthc_role_name(bit), names[i]);
    }

    assert_int_equal(tthc_role_from_name(S("Sysadmin")), 0);
    assert_int_equal(tthc_role_from_name(S("sysadmin ")), 0);
    assert_int_equal(tthc_role_from_name(S("sysadm")), 0);
    assert_int_equal(tthc_role_from_name(S("")), 0);
    assert_int_equal(tthc_role_from_name(NULL, 0), 0);
    assert_null(tthc_role_name(0));
    assert_null(tthc_role_name(TTHC_ROLE_MONITOR | TTHC_ROLE_SYSADMIN));
    assert_null(tthc_role_name(0x80));
}


static void
test_roles_parse(void **state)
{
    (void) state;

    assert_int_equal(tthc_roles_parse(S("")), 0);
    assert_int_equal(tthc_roles_parse(S("monitor")), TTHC_ROLE_MONITOR);
    assert_int_equal(tthc_roles_parse(S("desk_officer,agency_admin")),
                     TTHC_ROLE_DESK_OFFICER | TTHC_ROLE_AGENCY_ADMIN);
    assert_int_equal(tthc_roles_parse(S("sysadmin,sysadmin")), TTHC_ROLE_SYSADMIN);
    assert_int_equal(tthc_roles_parse(S("desk_officer,handling_official,department_head,"
                                        "agency_leader,agency_admin,monitor,sysadmin")),
                     TTHC_ROLES_ALL);
    /* only part of a buffer */
    assert_int_equal(tthc_roles_parse("monitor,sysadmin", 7), TTHC_ROLE_MONITOR);

    assert_int_equal(tthc_roles_parse(S("root")), -1);
    assert_int_equal(tthc_roles_parse(S("monitor,")), -1);
    assert_int_equal(tthc_roles_parse(S(",monitor")), -1);
    assert_int_equal(tthc_roles_parse(S("monitor,,sysadmin")), -1);
    assert_int_equal(tthc_roles_parse(S("monitor, sysadmin")), -1);
    assert_int_equal(tthc_roles_parse(S("MONITOR")), -1);
}


static void
test_roles_format(void **state)
{
    char    buf[TTHC_ROLES_NAMES_MAX], small[8];
    size_t  n;

    (void) state;

    n = tthc_roles_format(TTHC_ROLE_SYSADMIN | TTHC_ROLE_DESK_OFFICER, buf, sizeof(buf));
    assert_string_equal(buf, "desk_officer,sysadmin");
    assert_int_equal(n, strlen(buf));

    n = tthc_roles_format(TTHC_ROLES_ALL, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(tthc_roles_parse(buf, n), TTHC_ROLES_ALL);

    assert_int_equal(tthc_roles_format(0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");

    assert_int_equal(tthc_roles_format(TTHC_ROLE_SYSADMIN, small, sizeof(small)), 0);
    assert_string_equal(small, "");
    assert_int_equal(tthc_roles_format(TTHC_ROLE_MONITOR, small, sizeof(small)), 7);
    assert_string_equal(small, "monitor");
}


/* each handling role: own agency read+write, other agency neither, joint
 * procedure sent to it: read+write */
static void
test_dossier_handling_roles(void **state)
{
    static const unsigned     roles[] = {
        TTHC_ROLE_DESK_OFFICER, TTHC_ROLE_HANDLING_OFFICIAL,
        TTHC_ROLE_DEPARTMENT_HEAD, TTHC_ROLE_AGENCY_LEADER
    };
    static const char *const  sent[] = { A_KH, A_TP, NULL };
    static const char *const  other[] = { A_KH, NULL };
    unsigned                  i;
    tthc_actor_t              a;

    (void) state;

    for (i = 0; i < 4; i++) {
        a.roles = roles[i];
        a.agency = A_TP;
        assert_true(tthc_scope_dossier_read(&a, A_TP, NULL));
        assert_true(tthc_scope_dossier_write(&a, A_TP, NULL));
        /* denial: another agency's dossier */
        assert_false(tthc_scope_dossier_read(&a, A_KH, NULL));
        assert_false(tthc_scope_dossier_write(&a, A_KH, NULL));
        assert_false(tthc_scope_dossier_read(&a, A_KH, other));
        assert_false(tthc_scope_dossier_write(&a, A_KH, other));
        /* joint procedure currently sent to this agency */
        assert_true(tthc_scope_dossier_read(&a, A_ND, sent));
        assert_true(tthc_scope_dossier_write(&a, A_ND, sent));
        /* an official without an agency sees nothing */
        a.agency = "";
        assert_false(tthc_scope_dossier_read(&a, A_TP, NULL));
        a.agency = NULL;
        assert_false(tthc_scope_dossier_read(&a, A_TP, NULL));
        assert_false(tthc_scope_dossier_write(&a, A_TP, sent));
    }
}


static void
test_dossier_admin_monitor_sysadmin(void **state)
{
    tthc_actor_t  a;

    (void) state;

    /* agency administrator: reads own agency, never acts, never crosses */
    a.roles = TTHC_ROLE_AGENCY_ADMIN;
    a.agency = A_TP;
    assert_true(tthc_scope_dossier_read(&a, A_TP, NULL));
    assert_false(tthc_scope_dossier_write(&a, A_TP, NULL));
    assert_false(tthc_scope_dossier_read(&a, A_KH, NULL));

    /* monitor: everything, read-only */
    a.roles = TTHC_ROLE_MONITOR;
    a.agency = NULL;
    assert_true(tthc_scope_dossier_read(&a, A_TP, NULL));
    assert_true(tthc_scope_dossier_read(&a, A_KH, NULL));
    assert_false(tthc_scope_dossier_write(&a, A_TP, NULL));
    a.agency = A_TP;
    assert_false(tthc_scope_dossier_write(&a, A_KH, NULL));

    /* monitor + desk officer: acts only in its own agency */
    a.roles = TTHC_ROLE_MONITOR | TTHC_ROLE_DESK_OFFICER;
    assert_true(tthc_scope_dossier_write(&a, A_TP, NULL));
    assert_false(tthc_scope_dossier_write(&a, A_KH, NULL));
    assert_true(tthc_scope_dossier_read(&a, A_KH, NULL));

    /* sysadmin: everything */
    a.roles = TTHC_ROLE_SYSADMIN;
    a.agency = NULL;
    assert_true(tthc_scope_dossier_read(&a, A_KH, NULL));
    assert_true(tthc_scope_dossier_write(&a, A_KH, NULL));

    /* no role, NULL actor */
    a.roles = 0;
    a.agency = A_TP;
    assert_false(tthc_scope_dossier_read(&a, A_TP, NULL));
    assert_false(tthc_scope_dossier_write(&a, A_TP, NULL));
    assert_false(tthc_scope_dossier_read(NULL, A_TP, NULL));
    assert_false(tthc_scope_dossier_write(NULL, A_TP, NULL));
    /* a dossier without an agency matches nobody's empty agency */
    a.roles = TTHC_ROLE_DESK_OFFICER;
    a.agency = "";
    assert_false(tthc_scope_dossier_read(&a, "", NULL));
}


static void
test_account_admin(void **state)
{
    tthc_actor_t  a;
    unsigned      r;

    (void) state;

    a.roles = TTHC_ROLE_AGENCY_ADMIN;
    a.agency = A_TP;
    assert_true(tthc_scope_account_admin(&a, A_TP, 0));
    assert_true(tthc_scope_account_admin(&a, A_TP, TTHC_ROLE_DESK_OFFICER
                                                   | TTHC_ROLE_AGENCY_ADMIN));
    /* denials: another agency, no agency, granting sysadmin or monitor */
    assert_false(tthc_scope_account_admin(&a, A_KH, 0));
    assert_false(tthc_scope_account_admin(&a, A_KH, TTHC_ROLE_DESK_OFFICER));
    assert_false(tthc_scope_account_admin(&a, NULL, TTHC_ROLE_DESK_OFFICER));
    assert_false(tthc_scope_account_admin(&a, "", TTHC_ROLE_DESK_OFFICER));
    assert_false(tthc_scope_account_admin(&a, A_TP, TTHC_ROLE_SYSADMIN));
    assert_false(tthc_scope_account_admin(&a, A_TP, TTHC_ROLE_MONITOR));
    assert_false(tthc_scope_account_admin(&a, A_TP, TTHC_ROLE_MONITOR | TTHC_ROLE_DESK_OFFICER));

    /* sysadmin: anything anywhere */
    a.roles = TTHC_ROLE_SYSADMIN;
    a.agency = NULL;
    assert_true(tthc_scope_account_admin(&a, A_KH, TTHC_ROLES_ALL));
    assert_true(tthc_scope_account_admin(&a, NULL, TTHC_ROLE_MONITOR));

    /* every other role: never */
    for (r = TTHC_ROLE_DESK_OFFICER; r <= TTHC_ROLE_MONITOR; r <<= 1) {
        if (r == TTHC_ROLE_AGENCY_ADMIN) {
            continue;
        }
        a.roles = r;
        a.agency = A_TP;
        assert_false(tthc_scope_account_admin(&a, A_TP, 0));
        assert_false(tthc_scope_account_admin(&a, A_TP, TTHC_ROLE_DESK_OFFICER));
    }
    assert_false(tthc_scope_account_admin(NULL, A_TP, 0));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_role_names),
        cmocka_unit_test(test_roles_parse),
        cmocka_unit_test(test_roles_format),
        cmocka_unit_test(test_dossier_handling_roles),
        cmocka_unit_test(test_dossier_admin_monitor_sysadmin),
        cmocka_unit_test(test_account_admin),
    };

    return cmocka_run_group_tests_name("tthc_scope", tests, NULL, NULL);
}
