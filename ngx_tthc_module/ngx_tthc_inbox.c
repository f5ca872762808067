
/*
 * GET /api/v1/staff/inbox: an official's work list (issue 4; DOMAIN H1,
 * T9; docs/contracts-workflow.md "Edge API", "Inbox read model").
 *
 *   ?limit=1..100 (20) &offset=0..10000 (0) &colour=red|yellow|green
 *   &procedure=CODE &status=1..10 &q=TEXT
 *
 * The workers keep, per agency A (all keys share the hash tag {ag:A}):
 *
 *   tthc:ib:{ag:A}:items           hash code -> item JSON
 *   tthc:ib:{ag:A}:q:ROLE          zset code, score red_at: waiting for ROLE
 *   tthc:ib:{ag:A}:q:ROLE:dDEPT    the same, for one department
 *   tthc:ib:{ag:A}:u:UID           assigned to official UID
 *
 * One script merges the official's queues (q:R for each handling role R
 * held, q:R:dDEPT for the official's department, u:UID) in the order of the
 * zsets (red_at ascending, then code), filters, pages, and adds to each item
 * its "colour" and "step_state" at the edge's now (T9): red if now >=
 * red_at, yellow if now >= yellow_at, else green, null for stages
 * supplement and closed; overdue if now >= step_due_at, due_soon if now >=
 * step_warn_at, else ok, null without a step deadline.  The items come back
 * as one JSON array text: the worker's item JSON untouched but for the two
 * fields spliced before its closing brace.
 *
 * total: without a filter, the sum of the queues' sizes; with one, the
 * number of matching items among the first 20000 of the merged queues
 * ("truncated": true when there were more).
 *
 * "now" is the clock: ngx_time(), plus tthc:{clock}:offset_ms with
 * "tthc_test_clock on" (tests move time forward without touching the host).
 */


#include "ngx_tthc_module.h"

#include "tthc_code.h"
#include "tthc_scope.h"
#include "tthc_time.h"
#include "tthc_utf8.h"
#include "tthc_text.h"


#define NGX_TTHC_INBOX_KEYS       (1 + 4 + 4 + 1)
#define NGX_TTHC_INBOX_ARGC       (3 + NGX_TTHC_INBOX_KEYS + 8)
#define NGX_TTHC_INBOX_Q_MAX      200


static const char  ngx_tthc_inbox_script[] =
    "local find, byte, char, gsub, sub = string.find, string.byte, "
    "  string.char, string.gsub, string.sub "

    "local now = tonumber(ARGV[1]) "
    "local offset = tonumber(ARGV[2]) "
    "local limit = tonumber(ARGV[3]) "
    "local fcolour, fproc = ARGV[4], ARGV[5] "
    "local fstatus = tonumber(ARGV[6]) "
    "local fq = string.upper(ARGV[7]) "
    "local fqf = ARGV[8] or '' "
    "local CAP, CHUNK = 5000, 256 "

    /*
     * filters without decoding items: the workers keep, per queue, an index
     * by procedure (Q:p:CODE) and by status (Q:s:N) with the same scores,
     * and a compact line per item in ...:f ("status\tred_at\tyellow_at\t
     * stage\tapplicant"); red is a score range (score = red_at), yellow and
     * green start after now.  Keys derived here share the agency's hash tag.
     */

    "local fkey = string.gsub(KEYS[1], ':items$', ':f') "
    "local suffix = '' "
    "if fproc ~= '' then suffix = ':p:' .. fproc "
    "elseif fstatus then suffix = ':s:' .. fstatus end "
    "local smin, smax = '-inf', '+inf' "
    "if fcolour == 'red' then smax = tostring(now) "
    "elseif fcolour ~= '' then smin = '(' .. tostring(now) end "

    /* the queues, read CHUNK members at a time; q.m, q.s: the head */

    "local qs = {} "
    "local function load(q) "
    "  if q.p > #q.b then "
    "    if q.last then q.m = nil return end "
    "    q.b = redis.call('ZRANGEBYSCORE', q.k, smin, smax, 'WITHSCORES', "
    "      'LIMIT', q.n, CHUNK) "
    "    q.p, q.n = 1, q.n + CHUNK "
    "    if #q.b < 2 * CHUNK then q.last = true end "
    "    if #q.b == 0 then q.m = nil return end "
    "  end "
    "  q.m = q.b[q.p] "
    "  q.s = tonumber(q.b[q.p + 1]) "
    "  if q.s == nil then "
    "    q.s = (q.b[q.p + 1] == '-inf') and -math.huge or math.huge end "
    "  q.p = q.p + 2 "
    "end "

    /* the merge: score, then code; a code in two queues counts once */

    "local seen = {} "
    "local function nextcode() "
    "  while true do "
    "    local best "
    "    for i = 1, #qs do "
    "      local q = qs[i] "
    "      if q.m and (best == nil or q.s < best.s "
    "                  or (q.s == best.s and q.m < best.m)) then "
    "        best = q end "
    "    end "
    "    if best == nil then return nil end "
    "    local m = best.m "
    "    load(best) "
    "    if #qs == 1 then return m end "
    "    if not seen[m] then seen[m] = true return m end "
    "  end "
    "end "

    /* T9 at now */

    "local function num(x) if type(x) == 'number' then return x end "
    "  return nil end "
    "local function colour_of(stage, red, yellow) "
    "  if stage == 'supplement' or stage == 'closed' then return nil end "
    "  if red and now >= red then return 'red' end "
    "  if yellow and now >= yellow then return 'yellow' end "
    "  return 'green' "
    "end "
    "local function judge(it) "
    "  local colour = colour_of(it.stage, num(it.red_at), num(it.yellow_at)) "
    "  if colour == nil then return nil, nil end "
    "  local state = nil "
    "  local due, warn = num(it.step_due_at), num(it.step_warn_at) "
    "  if due then "
    "    if now >= due then state = 'overdue' "
    "    elseif warn and now >= warn then state = 'due_soon' "
    "    else state = 'ok' end "
    "  end "
    "  return colour, state "
    "end "
    "local function js(s) if s == nil then return 'null' end "
    "  return '\"' .. s .. '\"' end "
    "local function decorate(v, colour, state) "
    "  local e = #v "
    "  while e > 0 and byte(v, e) ~= 125 do e = e - 1 end "
    "  if e == 0 then return nil end "
    "  local body = sub(v, 1, e - 1) "
    "  local sep = ',' "
    "  if find(body, '^%s*{%s*$') then sep = '' end "
    "  return body .. sep .. '\"colour\":' .. js(colour) "
    "    .. ',\"step_state\":' .. js(state) .. '}' "
    "end "

    /* a compact line against the filters (status, colour, q) */

    "local function matches(code, line) "
    /* most lines fail the text test: refuse them before parsing */
    "  local incode = fq ~= '' and find(code, fq, 1, true) "
    "  if fq ~= '' and not incode "
    "     and (fqf == '' or not find(line, fqf, 1, true)) then "
    "    return false end "
    "  local st, red, yellow, stage, name = "
    "    string.match(line, '^(%d*)\\t(%d*)\\t(%d*)\\t([^\\t]*)\\t(.*)$') "
    "  if st == nil then return false end "
    "  if fstatus and tonumber(st) ~= fstatus then return false end "
    "  if fcolour ~= '' and colour_of(stage, tonumber(red), tonumber(yellow)) "
    "      ~= fcolour then return false end "
    "  if fq ~= '' and not incode "
    "     and (fqf == '' or not find(name, fqf, 1, true)) then "
    "    return false end "
    "  return true "
    "end "

    /* the full items of a page, decorated */

    "local out, total, truncated = {}, 0, 0 "
    "local function take(codes) "
    "  if #codes == 0 then return end "
    "  local vals = redis.call('HMGET', KEYS[1], unpack(codes)) "
    "  for i = 1, #codes do "
    "    local v = vals[i] "
    "    if v then "
    "      local ok, it = pcall(cjson.decode, v) "
    "      if ok and type(it) == 'table' then "
    "        local colour, state = judge(it) "
    "        out[#out + 1] = decorate(v, colour, state) "
    "      end "
    "    end "
    "  end "
    "end "

    "local filtering = fcolour ~= '' or fstatus ~= nil or fq ~= '' "
    "local nonempty, only = 0, nil "
    "for i = 2, #KEYS do "
    "  if redis.call('EXISTS', KEYS[i] .. suffix) == 1 then "
    "    nonempty = nonempty + 1 only = KEYS[i] .. suffix end "
    "end "
    "if not filtering and nonempty <= 1 then "
    "  if only then "
    "    total = redis.call('ZCARD', only) "
    "    take(redis.call('ZRANGE', only, offset, offset + limit - 1)) "
    "  end "
    "  return {total, 0, '[' .. table.concat(out, ',') .. ']'} "
    "end "
    "for i = 2, #KEYS do "
    "  local q = {k = KEYS[i] .. suffix, b = {}, p = 1, n = 0, last = false} "
    "  load(q) "
    "  if q.m then qs[#qs + 1] = q end "
    "end "

    "if not filtering then "
    "  for i = 2, #KEYS do "
    "    total = total + redis.call('ZCARD', KEYS[i] .. suffix) end "
    "  local page, n = {}, 0 "
    "  while n < offset + limit do "
    "    local c = nextcode() "
    "    if c == nil then break end "
    "    n = n + 1 "
    "    if n > offset then page[#page + 1] = c end "
    "  end "
    "  take(page) "
    "else "
    "  local batch, page, scanned = {}, {}, 0 "
    "  local function check(b) "
    "    if #b == 0 then return end "
    "    local lines = redis.call('HMGET', fkey, unpack(b)) "
    "    for i = 1, #b do "
    "      if lines[i] and matches(b[i], lines[i]) then "
    "        total = total + 1 "
    "        if total > offset and total <= offset + limit then "
    "          page[#page + 1] = b[i] end "
    "      end "
    "    end "
    "  end "
    "  while true do "
    "    local c = nextcode() "
    "    if c == nil then break end "
    "    if scanned >= CAP then truncated = 1 break end "
    "    scanned = scanned + 1 "
    "    batch[#batch + 1] = c "
    "    if #batch == CHUNK then check(batch) batch = {} end "
    "  end "
    "  check(batch) "
    "  take(page) "
    "end "
    "return {total, truncated, '[' .. table.concat(out, ',') .. ']'}";


/* the script's SHA-1, as Redis reported it to SCRIPT LOAD (per process) */

static u_char      ngx_tthc_inbox_sha[40];
static ngx_uint_t  ngx_tthc_inbox_sha_known;


typedef struct {
    ngx_int_t                   offset;
    ngx_int_t                   limit;
    ngx_str_t                   colour;
    ngx_str_t                   procedure;
    ngx_str_t                   status;
    ngx_str_t                   q;
    ngx_str_t                   qfold;
    ngx_str_t                   keys[NGX_TTHC_INBOX_KEYS];
    ngx_uint_t                  nkeys;
    time_t                      now;
    ngx_uint_t                  retried;
} ngx_tthc_inbox_t;


static ngx_int_t ngx_tthc_inbox_run(ngx_http_request_t *r,
    ngx_tthc_inbox_t *ib);
static void ngx_tthc_inbox_clock(ngx_http_request_t *r, redisReply *reply,
    void *data);


static const char *
ngx_tthc_inbox_params(ngx_http_request_t *r, ngx_tthc_inbox_t *ib)
{
    u_char     *p, *last;
    size_t      adv;
    int32_t     cp;
    ngx_int_t   n;
    ngx_str_t   v;

    ib->limit = 20;
    ib->offset = 0;

    if (ngx_tthc_arg(r, "limit", &v) == NGX_ERROR) {
        return "";
    }

    if (v.len) {
        n = ngx_atoi(v.data, v.len);
        if (n < 1 || n > 100) {
            return "limit";
        }

        ib->limit = n;
    }

    if (ngx_tthc_arg(r, "offset", &v) == NGX_ERROR) {
        return "";
    }

    if (v.len) {
        n = ngx_atoi(v.data, v.len);
        if (n < 0 || n > 10000) {
            return "offset";
        }

        ib->offset = n;
    }

    if (ngx_tthc_arg(r, "colour", &ib->colour) == NGX_ERROR) {
        return "";
    }

    if (ib->colour.len
        && !ngx_tthc_seg_equal(&ib->colour, "red")
        && !ngx_tthc_seg_equal(&ib->colour, "yellow")
        && !ngx_tthc_seg_equal(&ib->colour, "green"))
    {
        return "colour";
    }

    if (ngx_tthc_arg(r, "procedure", &ib->procedure) == NGX_ERROR) {
        return "";
    }

    if (ib->procedure.len && !ngx_tthc_procedure_code_valid(&ib->procedure)) {
        return "procedure";
    }

    if (ngx_tthc_arg(r, "status", &ib->status) == NGX_ERROR) {
        return "";
    }

    if (ib->status.len) {
        n = ngx_atoi(ib->status.data, ib->status.len);
        if (n < 1 || n > 10 || ib->status.len > 2) {
            return "status";
        }
    }

    if (ngx_tthc_arg(r, "q", &ib->q) == NGX_ERROR) {
        return "";
    }

    if (ib->q.len > NGX_TTHC_INBOX_Q_MAX) {
        return "q";
    }

    last = ib->q.data + ib->q.len;

    for (p = ib->q.data; p < last; p += adv) {
        cp = tthc_utf8_decode(p, last - p, &adv);

        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            return "q";
        }
    }

    /* spaces around the text do not count; spaces only filter nothing */

    while (ib->q.len && ib->q.data[0] == ' ') {
        ib->q.data++;
        ib->q.len--;
    }

    while (ib->q.len && ib->q.data[ib->q.len - 1] == ' ') {
        ib->q.len--;
    }

    /* names are matched folded (common/tthc_text: no case, no diacritics,
     * as the workers store them): "nguyen van" finds "Nguyễn Văn" */
    ib->qfold.data = ngx_pnalloc(r->pool, ib->q.len + 1);
    if (ib->qfold.data == NULL) {
        return "q";
    }

    ib->qfold.len = tthc_text_fold((const char *) ib->q.data, ib->q.len,
                                   (char *) ib->qfold.data, ib->q.len + 1);

    return NULL;
}


/* tthc:ib:{ag:A}:items, then the queues of the official */

static ngx_int_t
ngx_tthc_inbox_keys(ngx_http_request_t *r, ngx_tthc_inbox_t *ib)
{
    u_char              *p;
    size_t               len;
    unsigned             bit;
    const char          *role;
    ngx_tthc_session_t  *s;

    s = ngx_tthc_req(r)->session;

    len = sizeof("tthc:ib:{ag:}:") - 1 + s->agency.len
          + sizeof("q:handling_official:d") - 1
          + ngx_max(s->dept.len, s->uid.len) + 8;

    ib->nkeys = 0;

#define ngx_tthc_inbox_key(fmt, ...)                                          \
    p = ngx_pnalloc(r->pool, len);                                            \
    if (p == NULL) {                                                          \
        return NGX_ERROR;                                                     \
    }                                                                         \
    ib->keys[ib->nkeys].data = p;                                             \
    ib->keys[ib->nkeys].len = ngx_sprintf(p, "tthc:ib:{ag:%V}:" fmt,          \
                                          &s->agency, __VA_ARGS__) - p;       \
    ib->nkeys++

    ngx_tthc_inbox_key("%s", "items");

    for (bit = TTHC_ROLE_DESK_OFFICER; bit <= TTHC_ROLE_AGENCY_LEADER;
         bit <<= 1)
    {
        if (!(s->roles & bit)) {
            continue;
        }

        role = tthc_role_name(bit);

        ngx_tthc_inbox_key("q:%s", role);

        if (s->dept.len) {
            ngx_tthc_inbox_key("q:%s:d%V", role, &s->dept);
        }
    }

    ngx_tthc_inbox_key("u:%V", &s->uid);

#undef ngx_tthc_inbox_key

    return NGX_OK;
}


static ngx_uint_t
ngx_tthc_inbox_id_valid(ngx_str_t *id)
{
    ngx_uint_t  i;

    if (id->len == 0 || id->len > 20) {
        return 0;
    }

    for (i = 0; i < id->len; i++) {
        if (id->data[i] < '0' || id->data[i] > '9') {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_tthc_inbox_handler(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    const char            *field, *refusal;
    const char            *argv[2];
    size_t                 argvlen[2];
    ngx_tthc_req_t        *req;
    ngx_tthc_inbox_t      *ib;
    ngx_tthc_session_t    *s;
    ngx_tthc_main_conf_t  *mcf;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    refusal = ngx_tthc_session_refusal(r, 0, TTHC_ROLES_HANDLING);
    if (refusal != NULL) {
        return ngx_tthc_send_error(r, refusal);
    }

    req = ngx_tthc_req(r);
    s = req->session;

    /* a handling role at an agency (the keys carry both) */

    if (!tthc_agency_code_valid((const char *) s->agency.data,
                                   s->agency.len)
        || !ngx_tthc_inbox_id_valid(&s->uid)
        || (s->dept.len && !ngx_tthc_inbox_id_valid(&s->dept)))
    {
        return ngx_tthc_send_error(r, "FORBIDDEN");
    }

    ib = ngx_pcalloc(r->pool, sizeof(ngx_tthc_inbox_t));
    if (ib == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    field = ngx_tthc_inbox_params(r, ib);

    if (field) {
        if (*field == '\0') {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_tthc_send_error_field(r, "INVALID_PARAMETER", field);
    }

    if (ngx_tthc_inbox_keys(r, ib) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    if (mcf->test_clock) {
        argv[0] = "GET";
        argvlen[0] = 3;
        argv[1] = "tthc:{clock}:offset_ms";
        argvlen[1] = sizeof("tthc:{clock}:offset_ms") - 1;

        rc = ngx_tthc_redis_command(r, ngx_tthc_inbox_clock, ib, 2, argv,
                                    argvlen);

    } else {
        ib->now = ngx_time();
        rc = ngx_tthc_inbox_run(r, ib);
    }

    if (rc != NGX_OK) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}


/* the test clock: integer milliseconds, missing or negative = 0 */

static void
ngx_tthc_inbox_clock(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_inbox_t  *ib = data;

    size_t      i;
    int64_t     ms, offset;
    ngx_time_t  *tp;

    if (reply == NULL) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    offset = 0;

    if (reply->type == REDIS_REPLY_STRING && reply->len
        && reply->str[0] != '-')
    {
        for (i = 0; i < reply->len && offset < 1000000000000000LL; i++) {
            if (reply->str[i] < '0' || reply->str[i] > '9') {
                offset = 0;
                break;
            }

            offset = offset * 10 + (reply->str[i] - '0');
        }

    } else if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "tthc inbox: GET tthc:{clock}:offset_ms: %s",
                      reply->str);
    }

    tp = ngx_timeofday();
    ms = (int64_t) tp->sec * 1000 + tp->msec + offset;

    ib->now = (time_t) (ms / 1000);

    if (ngx_tthc_inbox_run(r, ib) != NGX_OK) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
    }
}


static void
ngx_tthc_inbox_loaded(redisAsyncContext *ac, void *reply, void *data)
{
    redisReply  *rep = reply;

    if (rep && rep->type == REDIS_REPLY_STRING && rep->len == 40) {
        ngx_memcpy(ngx_tthc_inbox_sha, rep->str, 40);
        ngx_tthc_inbox_sha_known = 1;
    }
}


static void
ngx_tthc_inbox_reply(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_inbox_t  *ib = data;

    char         now[32];
    u_char      *buf, *p;
    size_t       len, nlen;
    redisReply  *items;

    if (reply == NULL) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {

        if (reply->len >= 8 && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0
            && !ib->retried)
        {
            /* Redis restarted or flushed its scripts: EVAL once more */

            ib->retried = 1;
            ngx_tthc_inbox_sha_known = 0;

            if (ngx_tthc_inbox_run(r, ib) != NGX_OK) {
                ngx_tthc_finalize(r, ngx_tthc_send_error(r,
                                                    "SERVICE_UNAVAILABLE"));
            }

            return;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "tthc inbox: script failed: %s", reply->str);
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_INTEGER
        || reply->element[2]->type != REDIS_REPLY_STRING
        || reply->element[2]->len < 2
        || reply->element[2]->str[0] != '[')
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "tthc inbox: unexpected reply of the script");
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "INTERNAL_ERROR"));
        return;
    }

    items = reply->element[2];

    nlen = tthc_fmt_local(now, sizeof(now), ib->now);

    len = sizeof("{\"total\":,\"now\":\"\",\"truncated\":false,\"items\":}")
          + NGX_INT64_LEN + nlen + items->len;

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(buf, "{\"total\":%L,\"now\":\"%*s\",\"truncated\":%s,"
                    "\"items\":",
                    (int64_t) reply->element[0]->integer, nlen, (u_char *) now,
                    reply->element[1]->integer ? "true" : "false");
    p = ngx_cpymem(p, items->str, items->len);
    *p++ = '}';

    ngx_tthc_finalize(r, ngx_tthc_send_json(r, NGX_HTTP_OK, buf, p - buf));
}


/*
 * EVALSHA when this process knows the script's SHA-1; else SCRIPT LOAD
 * (its reply teaches us the SHA-1) pipelined with an EVAL.
 */

static ngx_int_t
ngx_tthc_inbox_run(ngx_http_request_t *r, ngx_tthc_inbox_t *ib)
{
    int          argc;
    u_char       nk[NGX_INT_T_LEN], now[NGX_TIME_T_LEN];
    u_char       off[NGX_INT_T_LEN], lim[NGX_INT_T_LEN];
    const char  *argv[NGX_TTHC_INBOX_ARGC];
    size_t       argvlen[NGX_TTHC_INBOX_ARGC];
    ngx_uint_t   i;

    if (!ngx_tthc_inbox_sha_known) {
        argv[0] = "SCRIPT";
        argvlen[0] = 6;
        argv[1] = "LOAD";
        argvlen[1] = 4;
        argv[2] = ngx_tthc_inbox_script;
        argvlen[2] = sizeof(ngx_tthc_inbox_script) - 1;

        (void) ngx_tthc_redis_fire_cb(ngx_tthc_inbox_loaded, NULL, 3, argv,
                                      argvlen);

        argv[0] = "EVAL";
        argvlen[0] = 4;
        argv[1] = ngx_tthc_inbox_script;
        argvlen[1] = sizeof(ngx_tthc_inbox_script) - 1;

    } else {
        argv[0] = "EVALSHA";
        argvlen[0] = 7;
        argv[1] = (const char *) ngx_tthc_inbox_sha;
        argvlen[1] = 40;
    }

    argv[2] = (const char *) nk;
    argvlen[2] = ngx_sprintf(nk, "%ui", ib->nkeys) - nk;

    argc = 3;

    for (i = 0; i < ib->nkeys; i++) {
        argv[argc] = (const char *) ib->keys[i].data;
        argvlen[argc++] = ib->keys[i].len;
    }

    argv[argc] = (const char *) now;
    argvlen[argc++] = ngx_sprintf(now, "%T", ib->now) - now;
    argv[argc] = (const char *) off;
    argvlen[argc++] = ngx_sprintf(off, "%i", ib->offset) - off;
    argv[argc] = (const char *) lim;
    argvlen[argc++] = ngx_sprintf(lim, "%i", ib->limit) - lim;

#define ngx_tthc_inbox_arg(s)                                                 \
    argv[argc] = (s).len ? (const char *) (s).data : "";                      \
    argvlen[argc++] = (s).len

    ngx_tthc_inbox_arg(ib->colour);
    ngx_tthc_inbox_arg(ib->procedure);
    ngx_tthc_inbox_arg(ib->status);
    ngx_tthc_inbox_arg(ib->q);
    ngx_tthc_inbox_arg(ib->qfold);

#undef ngx_tthc_inbox_arg

    return ngx_tthc_redis_command(r, ngx_tthc_inbox_reply, ib, argc, argv,
                                  argvlen);
}
