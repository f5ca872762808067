/* xmlsafe.c - the one door for incoming exchange XML (issue 5 "XML
 * contracts", exchange/xsd/): size limit, a parse that cannot reach the
 * network nor declare an entity, a depth limit, then XSD validation.
 *
 * Hostile input: libxml2 2.9.14 has no XML_PARSE_NO_XXE, so the parser runs
 * with XML_PARSE_NONET only (no NOENT, DTDLOAD, DTDATTR, HUGE) and the SAX
 * internalSubset callback stops it at the DOCTYPE itself: the internal
 * subset is never read, so no entity is ever declared or expanded (XXE,
 * "billion laughs", parameter entities).  A document with a DTD is refused.
 *
 * Errors: every libxml2 report of the call goes to our structured handler
 * (never stderr) and the first becomes a short reason made of an error
 * class, an element name and a line number; values are never copied
 * (schema messages quote them, and they may be personal data). */
#include "wk.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>   /* xmlCreateMemoryParserCtxt */
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#define XS_CACHE_MAX 16

typedef struct {
    char   *err;
    size_t  errsz;
    int     set;        /* err holds the first reason */
    int     doctype;    /* a DOCTYPE was seen */
    int     xsd;        /* compiling our own XSD: its messages are safe */
} xs_report;

static struct {
    char         path[PATH_MAX];
    xmlSchemaPtr schema;
} g_cache[XS_CACHE_MAX];
static int g_ncache;

static void xs_set(xs_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void xs_set(xs_report *r, const char *fmt, ...)
{
    if (r->set || !r->err || r->errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errsz, fmt, ap);
    va_end(ap);
    r->set = 1;
}

/* element (or attribute) name of a validation error, bounded, or "?" */
static void xs_node_name(const xmlError *e, char *out, size_t outsz)
{
    const xmlNode *n = e->node;
    snprintf(out, outsz, "?");
    if (n && (n->type == XML_ELEMENT_NODE || n->type == XML_ATTRIBUTE_NODE)
        && n->name)
        snprintf(out, outsz, "%s%.64s", n->type == XML_ATTRIBUTE_NODE ? "@" : "",
                 (const char *)n->name);
}

static const char *xs_parse_phrase(int code)
{
    switch (code) {
    case XML_ERR_DOCUMENT_EMPTY:         return "empty document";
    case XML_ERR_DOCUMENT_END:           return "content after the root element";
    case XML_ERR_TAG_NAME_MISMATCH:      return "mismatched end tag";
    case XML_ERR_TAG_NOT_FINISHED:       return "element not closed";
    case XML_ERR_LT_IN_ATTRIBUTE:
    case XML_ERR_ATTRIBUTE_NOT_STARTED:
    case XML_ERR_ATTRIBUTE_WITHOUT_VALUE:
    case XML_ERR_ATTRIBUTE_REDEFINED:    return "bad attribute";
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:      return "undeclared entity";
    case XML_ERR_INVALID_CHAR:
    case XML_ERR_INVALID_CHARREF:
    case XML_ERR_INVALID_ENCODING:
    case XML_ERR_UNSUPPORTED_ENCODING:   return "invalid character or encoding";
    case XML_ERR_INTERNAL_ERROR:         return "nesting or size limit";
    default:                             return "not well-formed";
    }
}

static const char *xs_valid_phrase(int code)
{
    switch (code) {
    case XML_SCHEMAV_CVC_PATTERN_VALID:       return "value does not match its pattern";
    case XML_SCHEMAV_CVC_ENUMERATION_VALID:   return "value not in the allowed set";
    case XML_SCHEMAV_CVC_MAXLENGTH_VALID:     return "value too long";
    case XML_SCHEMAV_CVC_MINLENGTH_VALID:     return "value too short";
    case XML_SCHEMAV_CVC_LENGTH_VALID:        return "value of the wrong length";
    case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_1:
    case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_2:
    case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_3: return "value not of its type";
    case XML_SCHEMAV_ELEMENT_CONTENT:         return "element not expected here, or a required one missing";
    case XML_SCHEMAV_CVC_ELT_1:               return "not the root element of this message";
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_1:
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_3:    return "text not allowed here";
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_4:    return "element not expected here";
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_1:
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_2:  return "attribute not allowed";
    case XML_SCHEMAV_CVC_COMPLEX_TYPE_4:      return "required attribute missing";
    case XML_SCHEMAV_CVC_IDC:                 return "duplicate or missing key";
    default:                                  return "invalid";
    }
}

static void xs_on_error(void *ctx, xmlErrorPtr e)
{
    xs_report *r = ctx;
    if (!r || !e || e->level == XML_ERR_WARNING)
        return;
    char name[80];
    if (r->xsd) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s", e->message ? e->message : "error");
        msg[strcspn(msg, "\r\n")] = '\0';
        xs_set(r, "xsd: %s line %d: %s", e->file ? e->file : "?", e->line, msg);
        return;
    }
    switch (e->domain) {
    case XML_FROM_SCHEMASV:
        xs_node_name(e, name, sizeof name);
        xs_set(r, "schema-invalid: element '%s' at line %d: %s", name, e->line,
               xs_valid_phrase(e->code));
        break;
    default:
        if (e->code == XML_ERR_INTERNAL_ERROR)   /* libxml2's own depth/size limits: a hostile shape */
            xs_set(r, "refused: nesting or size beyond the parser's limits at line %d", e->line);
        else
            xs_set(r, "malformed XML at line %d: %s (libxml2 %d/%d)", e->line,
                   xs_parse_phrase(e->code), e->domain, e->code);
        break;
    }
}

static void xs_on_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;     /* swallowed: structured reports carry what we keep */
}

/* SAX internalSubset: a DOCTYPE; stop before its internal subset is read */
static void xs_on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                          const xmlChar *sys_id)
{
    (void)name;
    (void)ext_id;
    (void)sys_id;
    xmlParserCtxtPtr p = ctx;
    xs_report *r = p->_private;
    if (r)
        r->doctype = 1;
    xmlStopParser(p);
}

/* routes the thread's libxml2 reports to r for the duration of one call */
typedef struct {
    xmlStructuredErrorFunc sfn;
    void *sctx;
    xmlGenericErrorFunc gfn;
    void *gctx;
} xs_saved;

static void xs_hook(xs_report *r, xs_saved *s)
{
    static int inited;
    if (!inited) {
        xmlInitParser();
        inited = 1;
    }
    s->sfn = xmlStructuredError;
    s->sctx = xmlStructuredErrorContext;
    s->gfn = xmlGenericError;
    s->gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(r, xs_on_error);
    xmlSetGenericErrorFunc(NULL, xs_on_generic);
}

static void xs_unhook(const xs_saved *s)
{
    xmlSetStructuredErrorFunc(s->sctx, s->sfn);
    xmlSetGenericErrorFunc(s->gctx, s->gfn);
}

static xmlSchemaPtr xs_schema(const char *path, xs_report *r)
{
    if (!path || !*path || strlen(path) >= PATH_MAX) {
        xs_set(r, "xsd: no schema path");
        return NULL;
    }
    for (int i = 0; i < g_ncache; i++)
        if (strcmp(g_cache[i].path, path) == 0)
            return g_cache[i].schema;
    if (g_ncache == XS_CACHE_MAX) {
        xs_set(r, "xsd: too many schemas");
        return NULL;
    }
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);
    if (!pc) {
        xs_set(r, "xsd: %s: cannot create parser", path);
        return NULL;
    }
    xmlSchemaSetParserStructuredErrors(pc, xs_on_error, r);
    r->xsd = 1;
    xmlSchemaPtr s = xmlSchemaParse(pc);
    r->xsd = 0;
    xmlSchemaFreeParserCtxt(pc);
    if (!s) {
        xs_set(r, "xsd: %s: does not compile", path);
        return NULL;
    }
    snprintf(g_cache[g_ncache].path, sizeof g_cache[g_ncache].path, "%s", path);
    g_cache[g_ncache].schema = s;
    g_ncache++;
    return s;
}

/* 1 when no element is nested deeper than max (root = depth 1) */
static int xs_depth_ok(xmlNodePtr root, int max)
{
    xmlNodePtr n = root;
    int depth = 1;
    while (n) {
        if (n->type == XML_ELEMENT_NODE && depth > max)
            return 0;
        if (n->type == XML_ELEMENT_NODE && n->children) {
            n = n->children;
            depth++;
            continue;
        }
        while (n != root && !n->next) {
            n = n->parent;
            depth--;
        }
        if (n == root)
            break;
        n = n->next;
    }
    return 1;
}

static xmlDocPtr xs_parse(const char *buf, size_t len, xs_report *r)
{
    xmlParserCtxtPtr p = xmlCreateMemoryParserCtxt(buf, (int)len);
    if (!p) {
        xs_set(r, "malformed XML: cannot create parser");
        return NULL;
    }
    /* no NOENT (entity substitution), DTDLOAD, DTDATTR, DTDVALID, XINCLUDE
     * or HUGE: the defaults keep libxml2's own size and depth limits */
    xmlCtxtUseOptions(p, XML_PARSE_NONET);
    p->_private = r;
    /* parser reports go to the thread's handler (xs_hook), since
     * sax->serror stays NULL; internalSubset gets p->userData == p */
    p->sax->internalSubset = xs_on_doctype;
    xmlParseDocument(p);
    xmlDocPtr doc = p->myDoc;
    int wf = p->wellFormed;
    p->myDoc = NULL;
    xmlFreeParserCtxt(p);

    if (r->doctype) {
        if (doc)
            xmlFreeDoc(doc);
        r->set = 0;     /* the DOCTYPE is the reason, whatever came after */
        xs_set(r, "refused: DOCTYPE/DTD not allowed (no entities, no external subsets)");
        return NULL;
    }
    if (!wf || !doc) {
        if (doc)
            xmlFreeDoc(doc);
        xs_set(r, "malformed XML");
        return NULL;
    }
    if (doc->intSubset || doc->extSubset) {     /* belt and braces */
        xmlFreeDoc(doc);
        xs_set(r, "refused: DOCTYPE/DTD not allowed (no entities, no external subsets)");
        return NULL;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root) {
        xmlFreeDoc(doc);
        xs_set(r, "malformed XML: no root element");
        return NULL;
    }
    if (!xs_depth_ok(root, WK_XML_MAX_DEPTH)) {
        xmlFreeDoc(doc);
        xs_set(r, "refused: elements nested deeper than %d", WK_XML_MAX_DEPTH);
        return NULL;
    }
    return doc;
}

int wk_xml_parse_valid(const char *buf, size_t len, const char *xsd_path,
                       size_t max_len, xmlDocPtr *out, char *err, size_t errsz)
{
    xs_report r = { err, errsz, 0, 0, 0 };
    if (err && errsz)
        err[0] = '\0';
    if (out)
        *out = NULL;
    if (!out) {
        xs_set(&r, "internal: no output");
        return -1;
    }
    if (!buf || len == 0) {
        xs_set(&r, "malformed XML: empty body");
        return -1;
    }
    if (len > max_len || len > (size_t)INT_MAX) {
        xs_set(&r, "refused: body too large (%zu bytes, limit %zu)", len, max_len);
        return -1;
    }

    xs_saved saved;
    xs_hook(&r, &saved);
    int rc = -1;
    xmlSchemaPtr schema = xs_schema(xsd_path, &r);
    xmlDocPtr doc = schema ? xs_parse(buf, len, &r) : NULL;
    if (doc) {
        xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
        if (!vc) {
            xs_set(&r, "internal: cannot create validator");
        } else {
            xmlSchemaSetValidStructuredErrors(vc, xs_on_error, &r);
            int v = xmlSchemaValidateDoc(vc, doc);
            xmlSchemaFreeValidCtxt(vc);
            if (v == 0) {
                rc = 0;
            } else {
                xs_set(&r, "schema-invalid (libxml2 %d)", v);
            }
        }
    }
    xs_unhook(&saved);

    if (rc == 0) {
        *out = doc;
        if (err && errsz)
            err[0] = '\0';
    } else if (doc) {
        xmlFreeDoc(doc);
    }
    return rc;
}

int wk_xml_schema_check(const char *xsd_path, char *err, size_t errsz)
{
    xs_report r = { err, errsz, 0, 0, 0 };
    if (err && errsz)
        err[0] = '\0';
    xs_saved saved;
    xs_hook(&r, &saved);
    xmlSchemaPtr s = xs_schema(xsd_path, &r);
    xs_unhook(&saved);
    return s ? 0 : -1;
}

void wk_xml_cleanup(void)
{
    for (int i = 0; i < g_ncache; i++) {
        xmlSchemaFree(g_cache[i].schema);
        g_cache[i].schema = NULL;
        g_cache[i].path[0] = '\0';
    }
    g_ncache = 0;
}

/* ---- shared helpers of the exchange ---- */

const char *wk_xml_error_code(const char *why)
{
    if (why == NULL)
        return "INTERNAL_ERROR";
    if (!strncmp(why, "malformed", 9))
        return "XML_MALFORMED";
    if (!strncmp(why, "schema-invalid", 14))
        return "XML_INVALID";
    if (!strncmp(why, "refused: body too large", 23))
        return "REQUEST_TOO_LARGE";
    if (!strncmp(why, "refused", 7))
        return "XML_FORBIDDEN";
    return "INTERNAL_ERROR";              /* xsd: / internal: our side */
}

void wk_xsd_path(const wk_conf *conf, const char *name, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/%s", conf && conf->xsd_dir[0] ? conf->xsd_dir : "exchange/xsd", name);
}

void wk_ngaygio(time_t t, char out[16])
{
    time_t l = t + 7 * 3600;
    struct tm tm;
    gmtime_r(&l, &tm);
    strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

int wk_ngaygio_parse(const char *s, time_t *t)
{
    if (s == NULL || strlen(s) != 14)
        return -1;
    for (int i = 0; i < 14; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    char b[21];
    snprintf(b, sizeof(b), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 8, s + 10, s + 12);
    if (wk_parse_utc(b, 20, t) != 0)
        return -1;
    *t -= 7 * 3600;
    return 0;
}
