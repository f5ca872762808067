/* log.c - one line per event: "ts level component message key=value". */
#include "wk.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

static int log_fd = 2;
static int log_level = WK_LOG_INFO;
static const char *names[] = { "debug", "info", "warn", "error" };

int wk_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, names[i]))
            return i;
    if (!strcasecmp(s, "warning"))
        return WK_LOG_WARN;
    return -1;
}

void wk_log_init(const char *file, int level)
{
    log_level = level;
    if (file != NULL) {
        int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd >= 0) {
            if (log_fd > 2)
                close(log_fd);
            log_fd = fd;
        } else {
            fprintf(stderr, "cannot open log file %s, logging to stderr\n", file);
        }
    }
}

void wk_log_set_level(int level) { log_level = level; }

void wk_log(int level, const char *component, const char *fmt, ...)
{
    if (level < log_level)
        return;
    char buf[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000),
                     names[level < 0 ? 0 : level > 3 ? 3 : level], component);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(buf) - 2)
        len = sizeof(buf) - 2;
    /* keep it one line */
    for (size_t i = (size_t)n; i < len; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    buf[len++] = '\n';
    ssize_t w = write(log_fd, buf, len);
    (void)w;
}
