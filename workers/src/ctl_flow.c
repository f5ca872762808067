/* ctl_flow.c - tthcctl commands of the workflow (issue 4;
 * docs/contracts-workflow.md):
 *   setting get NAME | set NAME VALUE     deployment settings (supplement_mode)
 *   inbox rebuild | sync CODE             the inbox read model from MariaDB
 *   warn tick                             one pass of the warner now
 * Exit codes as tthcctl: 0 ok, 1 error, 2 usage, 3 unavailable. */
#include "workflow.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *name; const char *values[4]; } settings[] = {
    { "supplement_mode", { "restart", "resume", NULL } },
};

static int setting_valid(const char *name, const char *value)
{
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (!strcmp(settings[i].name, name)) {
            for (int k = 0; settings[i].values[k]; k++)
                if (!strcmp(settings[i].values[k], value))
                    return 1;
            return 0;
        }
    return 0;
}

int wk_ctl_flow(wk_db *db, wk_rds *r, const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "setting")) {
        if (argc == 2 && !strcmp(argv[0], "get")) {
            char v[256];
            int f = wf_setting(db, argv[1], v, sizeof(v));
            if (f < 0) {
                fprintf(stderr, "tthcctl: mariadb error: %s\n", db->last_error);
                return 3;
            }
            if (f == 0) {
                fprintf(stderr, "tthcctl: no setting %s\n", argv[1]);
                return 1;
            }
            printf("%s\n", v);
            return 0;
        }
        if (argc == 3 && !strcmp(argv[0], "set")) {
            if (!setting_valid(argv[1], argv[2])) {
                fprintf(stderr, "tthcctl: invalid setting %s=%s (supplement_mode: restart|resume)\n",
                        argv[1], argv[2]);
                return 2;
            }
            wk_param p[] = { WK_STR(argv[1]), WK_STR(argv[2]) };
            if (wk_db_exec(db, "INSERT INTO settings (name, value) VALUES (?, ?)"
                               " ON DUPLICATE KEY UPDATE value = VALUES(value)", p, 2, NULL, NULL, NULL, NULL) != 0) {
                fprintf(stderr, "tthcctl: mariadb error: %s\n", db->last_error);
                return 3;
            }
            printf("%s = %s\n", argv[1], argv[2]);
            return 0;
        }
        return 2;
    }
    if (!strcmp(cmd, "inbox")) {
        if (r == NULL)
            return 3;
        if (argc == 1 && !strcmp(argv[0], "rebuild")) {
            long n = 0;
            wk_rc rc = wk_inbox_rebuild(db, r, &n);
            if (rc != WK_OK) {
                fprintf(stderr, "tthcctl: inbox rebuild incomplete (%ld placed)\n", n);
                return 3;
            }
            printf("inbox rebuilt: %ld open dossiers placed\n", n);
            return 0;
        }
        if (argc == 2 && !strcmp(argv[0], "sync"))
            return wk_inbox_place(db, r, argv[1]) == WK_OK ? 0 : 3;
        return 2;
    }
    if (!strcmp(cmd, "warn")) {
        if (r == NULL || argc != 1 || strcmp(argv[0], "tick"))
            return r == NULL ? 3 : 2;
        long n = wk_warn_tick(db, r);
        if (n < 0)
            return 3;
        printf("warner: %ld dossiers looked at\n", n);
        return 0;
    }
    return 2;
}
