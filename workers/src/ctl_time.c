/* ctl_time.c - tthcctl deadline, elapsed, clock (docs/contracts-workflow.md
 * "The clock", "The calendar in the workers"; docs/time-rules.md).
 *   deadline --from INSTANT (--days N | --hours N | --minutes N) [--receipt] [--calendar FILE]
 *   elapsed  --from A --to B [--calendar FILE]
 *   clock show | set MS | advance DURATION | reset
 * Instants: 2026-11-28T15:00:00+07:00, 2026-11-28T08:00:00Z, or local
 * (Asia/Ho_Chi_Minh) 2026-11-28 15:00[:SS]; printed as 2026-11-28T15:00:00+07:00. */
#include "wk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EX_OK = 0, EX_ERR = 1, EX_USAGE = 2, EX_UNAVAIL = 3 };

#define LOCAL_OFFSET_S (7 * 3600)   /* Asia/Ho_Chi_Minh, fixed UTC+7 (tthc_time.h) */

static const char USAGE[] =
    "usage: tthcctl deadline --from INSTANT (--days N | --hours N | --minutes N) [--receipt]"
    " [--calendar FILE]\n"
    "       tthcctl elapsed --from INSTANT --to INSTANT [--calendar FILE]\n"
    "       tthcctl clock show | set MS | advance DURATION | reset\n"
    "INSTANT: 2026-11-28T15:00:00+07:00, 2026-11-28T08:00:00Z or local 2026-11-28 15:00[:SS]\n"
    "DURATION: N followed by s, m, h or d (calendar time), e.g. 90s, 15m, 4h, 3d\n";

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tthcctl: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", USAGE);
    return EX_USAGE;
}

static int two_digits(const char *p)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "YYYY-MM-DD(T| )HH:MM[:SS][Z|+HH:MM|-HH:MM]" -> UTC; no zone = local. 0 / -1 */
static int parse_instant(const char *s, time_t *t)
{
    size_t n = strlen(s);
    if (n < 16 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':')
        return -1;
    char utc[21];
    memcpy(utc, s, 16);            /* YYYY-MM-DDxHH:MM */
    utc[10] = 'T';
    const char *p = s + 16;
    if (*p == ':') {
        if (n < 19)
            return -1;
        memcpy(utc + 16, p, 3);    /* :SS */
        p += 3;
    } else {
        memcpy(utc + 16, ":00", 3);
    }
    utc[19] = 'Z';
    utc[20] = '\0';
    long off;
    if (*p == '\0') {
        off = LOCAL_OFFSET_S;
    } else if (!strcmp(p, "Z")) {
        off = 0;
    } else if ((p[0] == '+' || p[0] == '-') && strlen(p) == 6 && p[3] == ':') {
        int hh = two_digits(p + 1), mm = two_digits(p + 4);
        if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
            return -1;
        off = (p[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
    } else {
        return -1;
    }
    time_t as_utc;
    if (wk_parse_utc(utc, 20, &as_utc) != 0)
        return -1;
    *t = as_utc - off;
    return 0;
}

/* whole decimal number in [0, max]; 0 / -1 */
static int parse_count(const char *s, long long max, long long *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "90s", "15m", "4h", "3d" -> ms; 0 / -1 */
static int parse_duration(const char *s, int64_t *ms)
{
    size_t n = strlen(s);
    if (n < 2)
        return -1;
    long long unit;
    switch (s[n - 1]) {
    case 's': unit = 1000; break;
    case 'm': unit = 60 * 1000; break;
    case 'h': unit = 3600 * 1000; break;
    case 'd': unit = 86400 * 1000; break;
    default: return -1;
    }
    char num[24];
    if (n - 1 >= sizeof(num))
        return -1;
    memcpy(num, s, n - 1);
    num[n - 1] = '\0';
    long long v;
    if (parse_count(num, WK_CLOCK_MAX_OFFSET_MS / unit, &v) != 0)
        return -1;
    *ms = (int64_t)(v * unit);
    return 0;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]: 1 taken (*val set), 0 not
 * this option, -1 value missing */
static int opt_val(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

/* the calendar of a command: FILE, else the holidays table */
static int get_calendar(wk_db *db, const char *file, tthc_calendar_t *cal)
{
    if (file != NULL) {
        char err[512];
        if (wk_calendar_load_file(file, cal, err, sizeof(err)) != 0) {
            fprintf(stderr, "tthcctl: %s\n", err);
            return EX_ERR;
        }
        return EX_OK;
    }
    if (db == NULL) {
        tthc_calendar_default(cal);
        fprintf(stderr, "tthcctl: no calendar: give --calendar FILE or a tthc.conf (-c FILE)\n");
        return EX_USAGE;
    }
    if (db->my == NULL && wk_db_connect(db) != 0) {
        tthc_calendar_default(cal);
        fprintf(stderr, "tthcctl: mariadb unavailable: %s\n", db->last_error);
        return EX_UNAVAIL;
    }
    wk_rc rc = wk_calendar_load_db(db, cal);
    if (rc == WK_TRANSIENT) {
        fprintf(stderr, "tthcctl: mariadb unavailable: %s\n", db->last_error);
        return EX_UNAVAIL;
    }
    if (rc != WK_OK) {
        fprintf(stderr, "tthcctl: cannot load the holidays table (migrated?): %s\n", db->last_error);
        return EX_ERR;
    }
    return EX_OK;
}

static int print_instant(time_t t)
{
    char buf[40];
    if (wk_fmt_local(t, buf, sizeof(buf)) != 0) {
        fprintf(stderr, "tthcctl: instant out of range\n");
        return EX_ERR;
    }
    printf("%s\n", buf);
    return EX_OK;
}

static int cmd_deadline(wk_db *db, int argc, char **argv)
{
    const char *from_s = NULL, *file = NULL, *days_s = NULL, *hours_s = NULL, *mins_s = NULL;
    int receipt = 0;
    for (int i = 0; i < argc; i++) {
        const char **slot[] = { &from_s, &file, &days_s, &hours_s, &mins_s };
        static const char *names[] = { "--from", "--calendar", "--days", "--hours", "--minutes" };
        int k, r = 0;
        if (!strcmp(argv[i], "--receipt")) {
            receipt = 1;
            continue;
        }
        for (k = 0; k < 5; k++)
            if ((r = opt_val(argc, argv, &i, names[k], slot[k])) != 0)
                break;
        if (r < 0)
            return bad("deadline: %s needs a value", names[k]);
        if (k == 5)
            return bad("deadline: unknown argument %s", argv[i]);
    }
    if (from_s == NULL)
        return bad("deadline: --from INSTANT is required");
    if ((days_s != NULL) + (hours_s != NULL) + (mins_s != NULL) != 1)
        return bad("deadline: give exactly one of --days, --hours, --minutes");
    time_t from;
    if (parse_instant(from_s, &from) != 0)
        return bad("deadline: bad instant \"%s\"", from_s);
    long long n;
    const char *count_s = days_s ? days_s : hours_s ? hours_s : mins_s;
    long long max = days_s ? TTHC_CAL_MAX_SPAN_DAYS
                    : hours_s ? TTHC_CAL_MAX_SPAN_DAYS * 24LL : TTHC_CAL_MAX_SPAN_DAYS * 1440LL;
    if (parse_count(count_s, max, &n) != 0)
        return bad("deadline: bad count \"%s\" (a whole number >= 0)", count_s);

    tthc_calendar_t cal;
    int rc = get_calendar(db, file, &cal);
    if (rc != EX_OK) {
        tthc_calendar_free(&cal);
        return rc;
    }
    time_t t = from;
    if (receipt)
        t = tthc_receipt_time(&cal, t);            /* T1: 15:00 cut-off, next period */
    if (t != (time_t)-1)
        t = days_s ? tthc_add_working_days(&cal, t, (int)n)                 /* T2 */
                   : tthc_add_working_minutes(&cal, t, (long)(hours_s ? n * 60 : n));
    tthc_calendar_free(&cal);
    if (t == (time_t)-1) {
        fprintf(stderr, "tthcctl: no deadline: the calendar has no working time in reach\n");
        return EX_ERR;
    }
    return print_instant(t);
}

static int cmd_elapsed(wk_db *db, int argc, char **argv)
{
    const char *from_s = NULL, *to_s = NULL, *file = NULL;
    for (int i = 0; i < argc; i++) {
        const char **slot[] = { &from_s, &to_s, &file };
        static const char *names[] = { "--from", "--to", "--calendar" };
        int k, r = 0;
        for (k = 0; k < 3; k++)
            if ((r = opt_val(argc, argv, &i, names[k], slot[k])) != 0)
                break;
        if (r < 0)
            return bad("elapsed: %s needs a value", names[k]);
        if (k == 3)
            return bad("elapsed: unknown argument %s", argv[i]);
    }
    if (from_s == NULL || to_s == NULL)
        return bad("elapsed: --from and --to are required");
    time_t a, b;
    if (parse_instant(from_s, &a) != 0)
        return bad("elapsed: bad instant \"%s\"", from_s);
    if (parse_instant(to_s, &b) != 0)
        return bad("elapsed: bad instant \"%s\"", to_s);
    tthc_calendar_t cal;
    int rc = get_calendar(db, file, &cal);
    if (rc == EX_OK)
        printf("%ld\n", tthc_working_minutes_between(&cal, a, b));   /* T2, T3 */
    tthc_calendar_free(&cal);
    return rc;
}

static int print_clock(wk_rds *r)
{
    int64_t off;
    int got = wk_clock_offset_get(r, &off);
    if (got < 0) {
        fprintf(stderr, "tthcctl: redis unavailable\n");
        return EX_UNAVAIL;
    }
    char buf[40];
    int64_t now = wk_now_ms() + off;
    if (wk_fmt_local((time_t)(now / 1000), buf, sizeof(buf)) != 0)
        snprintf(buf, sizeof(buf), "?");
    printf("offset_ms=%lld now=%s\n", (long long)off, buf);
    return EX_OK;
}

static int cmd_clock(wk_rds *r, int argc, char **argv)
{
    if (argc < 1)
        return bad("clock: show, set MS, advance DURATION or reset expected");
    const char *sub = argv[0];
    int64_t ms = 0;
    if (!strcmp(sub, "show") || !strcmp(sub, "reset")) {
        if (argc != 1)
            return bad("clock %s takes no argument", sub);
    } else if (!strcmp(sub, "set")) {
        long long v;
        if (argc != 2 || parse_count(argv[1], WK_CLOCK_MAX_OFFSET_MS, &v) != 0)
            return bad("clock set: MS expected (milliseconds >= 0)");
        ms = (int64_t)v;
    } else if (!strcmp(sub, "advance")) {
        if (argc != 2 || parse_duration(argv[1], &ms) != 0)
            return bad("clock advance: DURATION expected (90s, 15m, 4h, 3d)");
    } else {
        return bad("clock: unknown subcommand %s", sub);
    }
    if (!wk_clock_redis(r)) {
        fprintf(stderr, "tthcctl: clock: this stack runs on the system clock (tthc.conf clock = system);"
                        " the clock can only be moved where clock = redis (test and bench stacks)\n");
        return EX_USAGE;
    }
    if (wk_rds_connect(r) != 0) {
        fprintf(stderr, "tthcctl: redis unavailable\n");
        return EX_UNAVAIL;
    }
    if (!strcmp(sub, "reset")) {
        if (wk_clock_offset_reset(r) != 0) {
            fprintf(stderr, "tthcctl: redis error\n");
            return EX_UNAVAIL;
        }
    } else if (!strcmp(sub, "set") || !strcmp(sub, "advance")) {
        if (!strcmp(sub, "advance")) {
            int64_t cur;
            if (wk_clock_offset_get(r, &cur) < 0) {
                fprintf(stderr, "tthcctl: redis unavailable\n");
                return EX_UNAVAIL;
            }
            if (ms > WK_CLOCK_MAX_OFFSET_MS - cur)
                return bad("clock advance: the offset would exceed 100 years");
            ms += cur;
        }
        if (wk_clock_offset_set(r, ms) != 0) {
            fprintf(stderr, "tthcctl: redis error\n");
            return EX_UNAVAIL;
        }
    }
    return print_clock(r);
}

int wk_ctl_time_cmd(const char *cmd)
{
    return !strcmp(cmd, "deadline") || !strcmp(cmd, "elapsed") || !strcmp(cmd, "clock");
}

int wk_ctl_time_noconf(const char *cmd, int argc, char **argv)
{
    if (strcmp(cmd, "deadline") != 0 && strcmp(cmd, "elapsed") != 0)
        return 0;
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--calendar") || !strncmp(argv[i], "--calendar=", 11))
            return 1;
    return 0;
}

int wk_ctl_time(wk_db *db, wk_rds *r, const char *cmd, int argc, char **argv)
{
    if (!strcmp(cmd, "deadline"))
        return cmd_deadline(db, argc, argv);
    if (!strcmp(cmd, "elapsed"))
        return cmd_elapsed(db, argc, argv);
    if (!strcmp(cmd, "clock"))
        return r ? cmd_clock(r, argc, argv) : bad("clock needs a tthc.conf");
    return bad("unknown command %s", cmd);
}
