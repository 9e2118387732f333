// SPDX-License-Identifier: Apache-2.0
/* source.c - the front end: a source file -> validated document tree.
 *
 * Design: the source is read by the secure XML reader (xml.c), which
 * decodes it, keeps its UTF-8 text for locations and parses it without
 * DTDs or external resources.  A report source (a root element a report
 * type claims) goes to report.c, which takes the parsed tree and returns a
 * core document; the core document (or a source that is one already) goes
 * to parse.c, which validates it and builds banshi's tree (doc.h).  The
 * two stages never call each other: this file is the only one that knows
 * both, so parse.c stays below report.c in the layer order.
 *
 * Layer 5 (report, source, normalize): docs/architecture.md. */
#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "fsio.h"
#include "parse.h"
#include "report.h"
#include "util.h"
#include "xml.h"

/* A report source (a root element that a report type claims) is validated
 * against its type's schema, checked against its rules and mapped to a core
 * document, which then stands for the source.  Returns the tree to build
 * the document from: `xdoc` itself, the core document (xdoc freed), or
 * NULL after errors (xdoc freed). */
static xmlDocPtr
S_map_report(bs_xml_parser *p, xmlDocPtr xdoc, const bs_parse_options *opts)
{
  bs_document *doc = p->doc;
  xmlDocPtr core = NULL;
  p->as_published = opts && opts->as_published;
  p->two_threads = opts && opts->two_threads;
  if (bs_report_map(p, xdoc, opts ? opts->previous : NULL, &core) == 0)
    return xdoc;
  xmlFreeDoc(xdoc);
  if (core && opts && opts->keep_source) {
    /* as banshi convert writes it */
    xmlChar *mem = NULL;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(core, &mem, &size, "UTF-8", 1);
    if (mem && size > 0) {
      unsigned char *copy = bs_arena_alloc(&doc->arena, (size_t)size);
      memcpy(copy, mem, (size_t)size);
      doc->core = copy;
      doc->core_len = (size_t)size;
    }
    xmlFree(mem);
  }
  return core;
}

static bs_document *
S_parse(bs_document *doc, const unsigned char *raw, size_t rawlen,
        const bs_parse_options *opts)
{
  bs_xml_parser p;
  bs_xml_parser_init(&p, doc);
  if (opts && opts->keep_source) {
    unsigned char *copy = bs_arena_alloc(&doc->arena, rawlen ? rawlen : 1);
    memcpy(copy, raw, rawlen);
    doc->raw = copy;
    doc->raw_len = rawlen;
  }
  xmlDocPtr xdoc = bs_xml_read(&p, raw, rawlen);
  if (!xdoc) {
    bs_xml_parser_done(&p);
    return doc;
  }

  if (!(opts && opts->schema)) {
    xdoc = S_map_report(&p, xdoc, opts);
    if (!xdoc) {
      bs_xml_parser_done(&p);
      return doc;
    }
  }

  /* Validate against the schema. */
  char *schema_path =
      opts && opts->schema
          ? bs_arena_strdup(&doc->arena, opts->schema)
          : bs_data_path(&doc->arena, BS_DATA_SCHEMAS, "document.xsd");
  xmlSchemaPtr schema = bs_xml_schema(schema_path);
  if (!schema) {
    bs_diag(&doc->diags, BS_ERROR, BS_D_SCHEMA_LOAD, NULL, 0, 0,
            bs_xml_schema_why(schema_path));
    xmlFreeDoc(xdoc);
    bs_xml_parser_done(&p);
    return doc;
  }
  if (opts && opts->core_out)
    bs_report_save(doc, xdoc, opts->core_out);
  bs_parse_tree(&p, schema, xdoc);
  bs_xml_parser_done(&p);
  xmlFreeDoc(xdoc);
  return doc;
}

/* A source over the size limit is refused before it is parsed. */
static void
S_too_large(bs_document *doc, size_t max)
{
  char size[32];
  if (max % (1024 * 1024) == 0)
    snprintf(size, sizeof size, "%zu MiB", max / (1024 * 1024));
  else
    snprintf(size, sizeof size, "%zu bytes", max);
  bs_diag_text(&doc->diags, BS_ERROR, BS_D_LIMIT, doc->path, 0, 0,
               doc->diags.lang == BS_LANG_EN
                   ? "the source is larger than the limit of %s"
                   : "源文件超过 %s 的大小上限",
               size);
}

bs_document *
bs_parse_memory(const char *path, const unsigned char *buf, size_t len,
                const bs_parse_options *opts, bs_lang lang)
{
  bs_document *doc = bs_document_new(path, lang);
  size_t max = opts && opts->max_bytes ? opts->max_bytes : BS_MAX_SOURCE_BYTES;
  if (len > max) {
    S_too_large(doc, max);
    return doc;
  }
  return S_parse(doc, buf, len, opts);
}

bs_document *
bs_parse_file(const char *path, const bs_parse_options *opts, bs_lang lang)
{
  size_t max = opts && opts->max_bytes ? opts->max_bytes : BS_MAX_SOURCE_BYTES;
  size_t len = 0;
  unsigned char *buf = bs_read_file(path, max, &len);
  if (!buf) {
    int e = errno;
    bs_document *doc = bs_document_new(path, lang);
    if (e == EFBIG)
      S_too_large(doc, max);
    else
      bs_diag(&doc->diags, BS_ERROR, BS_D_IO_READ, doc->path, 0, 0, path,
              bs_io_strerror(e, lang));
    return doc;
  }
  bs_document *doc = bs_document_new(path, lang);
  S_parse(doc, buf, len, opts);
  free(buf);
  return doc;
}

void
bs_parse_cleanup(void)
{
  bs_xml_cleanup();
  bs_report_cleanup();
  xmlCleanupParser();
}
