/* postal.c - postal pickup and result delivery (DOMAIN X3, A6). Stub: being built. */
#include "wk.h"

int wk_postal_render(wk_db *db, const wk_outbox_msg *m, char **xml, size_t *len)
{
    (void)db; (void)m; *xml = NULL; *len = 0;
    return 1;
}

int wk_postal_on_sent(wk_db *db, const wk_outbox_msg *m, const char *reply, size_t len)
{
    (void)db; (void)m; (void)reply; (void)len;
    return 1;
}
