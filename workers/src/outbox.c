/* outbox.c - delivery of the outbox to partners (docs/exchange.md). Being built. */
#include "wk.h"

int wk_outbox_enqueue(wk_db *db, long long dossier_id, long long history_id, const char *kind,
                      const char *target, const char *payload_json)
{
    (void)db; (void)dossier_id; (void)history_id; (void)kind; (void)target; (void)payload_json;
    return 0;
}

long wk_outbox_tick(wk_db *db, wk_rds *r, const wk_conf *conf, const char *me)
{
    (void)db; (void)r; (void)conf; (void)me;
    return 0;
}
