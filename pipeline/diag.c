// SPDX-License-Identifier: Apache-2.0
/* diag.c - diagnostics list and message catalogue; see diag.h.
 * Layer 1 (util, diag): docs/architecture.md. */
#include "diag.h"
#include "fsio.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rule id of each code in JSON diagnostics: stable, so that a program
 * reading them may match on it (diag.h, bs_code_name). */
static const char *const S_names[BS_D_CODE_COUNT] = {
    [BS_D_TEXT] = "text",
    [BS_D_IO_READ] = "io-read",
    [BS_D_IO_WRITE] = "io-write",
    [BS_D_XML_SYNTAX] = "xml-syntax",
    [BS_D_SCHEMA] = "schema",
    [BS_D_SCHEMA_LOAD] = "schema-load",
    [BS_D_NORM_NFC] = "norm-nfc",
    [BS_D_NORM_WIDTH] = "norm-width",
    [BS_D_NORM_PUNCT] = "norm-punct",
    [BS_D_NORM_SPACE] = "norm-space",
    [BS_D_NORM_QUOTE] = "norm-quote",
    [BS_D_FONT_MAP] = "font-map",
    [BS_D_FONT_ROLE] = "font-role",
    [BS_D_FONT_FILE] = "font-file",
    [BS_D_FONT_LOAD] = "font-load",
    [BS_D_GLYPH_MISSING] = "glyph-missing",
    [BS_D_TEMPLATE] = "template",
    [BS_D_TEMPLATE_MISSING] = "template-missing",
    [BS_D_HEADING_NUMBER] = "heading-number",
    [BS_D_LAYOUT_OVERFLOW] = "layout-overflow",
    [BS_D_RENDER] = "render",
    [BS_D_TOO_MANY] = "too-many",
    [BS_D_VALUE] = "value",
    [BS_D_NON_BMP] = "non-bmp",
    [BS_D_KEEP] = "keep",
    [BS_D_FONT_UNUSABLE] = "font-unusable",
    [BS_D_IMAGE] = "image",
    [BS_D_REPORT_TYPE] = "report-type",
    [BS_D_REPORT_FORMAT] = "report-format",
    [BS_D_RULE] = "rule",
    [BS_D_CELL_BLANK] = "cell-blank",
    [BS_D_CELL_PLACEHOLDER] = "cell-placeholder",
    [BS_D_CELL_VALUE] = "cell-value",
    [BS_D_PREVIOUS] = "previous",
    [BS_D_BATCH_CLASH] = "batch-clash",
    [BS_D_ARCHIVE_RECORD] = "archive-record",
    [BS_D_ARCHIVE_CHANGED] = "archive-changed",
    [BS_D_BAG_MISSING] = "bag-missing",
    [BS_D_BAG_ALTERED] = "bag-altered",
    [BS_D_BAG_UNLISTED] = "bag-unlisted",
    [BS_D_BAG_FORMAT] = "bag-format",
    [BS_D_BAG_OXUM] = "bag-oxum",
    [BS_D_LIMIT] = "limit",
    [BS_D_BAG_LINK] = "bag-link",
    [BS_D_BAG_SPECIAL] = "bag-special",
    [BS_D_BAG_DUPLICATE] = "bag-duplicate",
    [BS_D_ARCHIVE_IMAGE_PATH] = "archive-image-path",
    [BS_D_ARCHIVE_LEFT_OUT] = "archive-left-out",
    [BS_D_BAG_REQUIRED] = "bag-required",
    [BS_D_BAG_LINE] = "bag-line",
    [BS_D_BAG_PATH] = "bag-path",
    [BS_D_BAG_OTHER_ALGO] = "bag-other-algo",
    [BS_D_BAG_OXUM_FORMAT] = "bag-oxum-format",
    [BS_D_BAG_DEEP] = "bag-deep",
    [BS_D_COLLATION] = "collation",
    [BS_D_NORM_TITLE_MARK] = "norm-title-mark",
    [BS_D_BATCH_PROGRESS] = "batch-progress",
    [BS_D_BATCH_PROGRESS_TTY] = "batch-progress",
    [BS_D_BATCH_INTERRUPT] = "batch-interrupt",
    [BS_D_BATCH_SUMMARY] = "batch-summary",
    [BS_D_BATCH_LOG] = "batch-log",
    [BS_D_ARCHIVE_WRITTEN] = "archive-written",
    [BS_D_ARCHIVE_VALID] = "archive-valid",
    [BS_D_ARCHIVE_INVALID] = "archive-invalid",
    [BS_D_ARCHIVE_EXISTS] = "archive-exists",
    [BS_D_ARCHIVE_EMPTY] = "archive-empty",
    [BS_D_ARCHIVE_LEFT_OUT_COUNT] = "archive-left-out-count",
    [BS_D_ARCHIVE_NO_LOG] = "archive-no-log",
    [BS_D_STDIN] = "io-read",
    [BS_D_NEW_YEAR] = "new-year",
    [BS_D_NEW_ISSUER] = "new-issuer",
    [BS_D_NEW_EXISTS] = "new-exists",
    [BS_D_NEW_WRITTEN] = "new-written",
    [BS_D_ICC_MISSING] = "icc-missing",
    [BS_D_LIBRARY] = "library",
};

const char *
bs_code_name(bs_code code)
{
  static _Thread_local char other[24];
  if ((unsigned)code < BS_D_CODE_COUNT && S_names[code])
    return S_names[code];
  snprintf(other, sizeof other, "code-%d", (int)code);
  return other;
}

/* The wording of every message, Chinese first.  Arguments are documented by
 * the format itself; keep both languages' arguments in the same order. */
static const struct {
  const char *zh;
  const char *en;
} S_catalog[BS_D_CODE_COUNT] = {
    [BS_D_TEXT] = {"%s", "%s"},
    [BS_D_IO_READ] = {"无法读取文件“%s”：%s", "cannot read '%s': %s"},
    [BS_D_IO_WRITE] = {"无法写入文件“%s”：%s", "cannot write '%s': %s"},
    [BS_D_XML_SYNTAX] = {"XML 格式错误：%s", "XML syntax: %s"},
    [BS_D_SCHEMA] = {"不符合模式：%s", "schema: %s"},
    [BS_D_SCHEMA_LOAD] = {"无法加载模式文件“%s”", "cannot load schema '%s'"},
    [BS_D_NORM_NFC] = {"文本已按 NFC 规范化：“%s”改为“%s”",
                       "text normalised to NFC: '%s' became '%s'"},
    [BS_D_NORM_WIDTH] = {"全角字母或数字“%s”改为半角“%s”",
                         "full-width letter or digit '%s' became '%s'"},
    [BS_D_NORM_PUNCT] = {"中文语境中的半角标点“%s”改为全角“%s”",
                         "half-width punctuation '%s' in Chinese text "
                         "became '%s'"},
    [BS_D_NORM_SPACE] = {"删除了中文文字间的空格（“%s”）",
                         "removed a space inside Chinese text ('%s')"},
    [BS_D_NORM_QUOTE] = {"直引号“%s”改为中文引号“%s”",
                         "straight quote '%s' became the Chinese quote '%s'"},
    [BS_D_FONT_MAP] = {"字体映射文件错误：%s", "font map: %s"},
    [BS_D_FONT_ROLE] = {"未定义的字体角色“%s”", "unknown font role '%s'"},
    [BS_D_FONT_FILE] = {"找不到字体角色“%s”的字体文件“%s”；已查找：%s",
                        "no font file for role '%s' ('%s'); tried: %s"},
    [BS_D_FONT_LOAD] = {"无法使用字体文件“%s”：%s",
                        "cannot use font file '%s': %s"},
    [BS_D_GLYPH_MISSING] = {"字符 U+%04X“%s”在字体角色“%s”的所有字体中都没有"
                            "字形；已尝试：%s",
                            "character U+%04X '%s' has no glyph in any font "
                            "of role '%s'; tried: %s"},
    [BS_D_TEMPLATE] = {"版式模板“%s”：%s", "template '%s': %s"},
    [BS_D_TEMPLATE_MISSING] = {"找不到版式模板“%s”；已查找：%s",
                               "template '%s' not found; tried: %s"},
    [BS_D_HEADING_NUMBER] = {"标题文字以序号“%s”开头，而序号会自动生成（可设置"
                             " number=\"\" 关闭自动序号）",
                             "heading text starts with the number '%s', but "
                             "numbers are generated (set number=\"\" to turn "
                             "this off)"},
    [BS_D_LAYOUT_OVERFLOW] = {"%s", "%s"},
    [BS_D_RENDER] = {"生成 PDF 失败：%s", "PDF output failed: %s"},
    [BS_D_TOO_MANY] = {"另有 %u 条同类提示未列出", "%u more of this kind not shown"},
    [BS_D_VALUE] = {"取值无效：%s", "invalid value: %s"},
    [BS_D_NON_BMP] = {"%s", "%s"},
    [BS_D_KEEP] = {"%s", "%s"},
    [BS_D_IMAGE] = {"%s", "%s"},
    [BS_D_LIMIT] = {"%s", "%s"},
    [BS_D_NORM_TITLE_MARK] = {"书名号内的“%s”改为单书名号“%s”（GB/T 15834 4.15）",
                              "'%s' inside 《》 became the inner title mark "
                              "'%s' (GB/T 15834 4.15)"},
    [BS_D_PROSE] = {"正文“%s”所述数字%s与表格不一致：%s为%s",
                     "the text “%s” states %s, but %s is %s"},
    [BS_D_FONT_UNUSABLE] = {"字体角色“%s”没有可用的字体（%s）",
                            "font role '%s' has no usable font (%s)"},
    [BS_D_REPORT_TYPE] = {"报告类型“%s”不可用：%s",
                          "report type '%s' cannot be used: %s"},
    [BS_D_REPORT_FORMAT] = {"报告格式“%s”无效，应为：%s",
                            "unknown report format '%s'; expected one of: %s"},
    [BS_D_RULE] = {"%s", "%s"},
    [BS_D_CELL_BLANK] = {"%s：未填写；没有的请填 0",
                         "%s: left blank; write 0 where there is nothing to "
                         "report"},
    [BS_D_CELL_PLACEHOLDER] = {"%s：“%s”不是数字；没有的请填 0",
                               "%s: '%s' is not a number; write 0 where "
                               "there is nothing to report"},
    [BS_D_CELL_VALUE] = {"%s：“%s”不是%s", "%s: '%s' is not %s"},
    [BS_D_PREVIOUS] = {"上年报告“%s”：%s", "previous year's report '%s': %s"},
    [BS_D_BATCH_CLASH] = {"输出文件“%s”与源文件“%s”的输出重名，未处理",
                          "output '%s' is also the output of '%s'; not "
                          "processed"},
    [BS_D_ARCHIVE_RECORD] = {"“%s”没有批量生成记录（不是由 banshi batch 生成，"
                             "或其源文件后来处理失败）；请重新运行 banshi batch",
                             "'%s' has no batch record (not made by banshi "
                             "batch, or its source failed since); run banshi "
                             "batch again"},
    [BS_D_ARCHIVE_CHANGED] = {"“%s”在生成 PDF 之后被改动过；请重新运行 banshi "
                              "batch",
                              "'%s' changed after the PDF was made; run "
                              "banshi batch again"},
    [BS_D_BAG_MISSING] = {"文件缺失（列于“%s”）",
                          "missing (listed in '%s')"},
    [BS_D_BAG_ALTERED] = {"文件已被改动：SHA-256 为 %s，“%s”记录为 %s",
                          "altered: SHA-256 is %s, '%s' records %s"},
    [BS_D_BAG_UNLISTED] = {"文件未列入“%s”", "not listed in '%s'"},
    [BS_D_BAG_FORMAT] = {"BagIt 格式错误：应为两行，“BagIt-Version: "
                         "版本号”与“Tag-File-Character-Encoding: UTF-8”",
                         "BagIt format: expected two lines, 'BagIt-Version: "
                         "M.N' and 'Tag-File-Character-Encoding: UTF-8'"},
    [BS_D_BAG_OXUM] = {"Payload-Oxum 记录为 %s，实际为 %s",
                       "Payload-Oxum records %s, the payload is %s"},
    [BS_D_BAG_LINK] = {"是符号链接；包内只能有文件和文件夹（未跟随）",
                       "a symbolic link; a bag holds files and folders only "
                       "(not followed)"},
    [BS_D_BAG_SPECIAL] = {"不是普通文件或文件夹（设备、FIFO 或套接字）；未打开",
                          "not a regular file or folder (a device, FIFO or "
                          "socket); not opened"},
    [BS_D_BAG_DUPLICATE] = {"“%s”重复列出此路径（另见第 %u 行）",
                            "listed twice in '%s' (also on line %u)"},
    [BS_D_ARCHIVE_IMAGE_PATH] = {"“%s”的批量生成记录所列图片“%s”不在源文件"
                                 "所在目录之内，拒绝打包；请重新运行 banshi "
                                 "batch",
                                 "the batch record of '%s' names the image "
                                 "'%s', outside the source's folder; refused "
                                 "(run banshi batch again)"},
    [BS_D_ARCHIVE_LEFT_OUT] = {"未收入包中：批量生成日志“%s”记录其结果为“%s”",
                               "left out of the bag: the batch log '%s' "
                               "records it as '%s'"},
    [BS_D_BAG_REQUIRED] = {"缺失；BagIt 包必须有此项",
                           "missing; every bag must have it"},
    [BS_D_BAG_LINE] = {"应为“校验和 路径”（64 位十六进制的 SHA-256、空格、"
                       "路径）",
                       "expected 'checksum path' (64 hex digits of SHA-256, "
                       "a space, a path)"},
    [BS_D_BAG_PATH] = {"路径“%s”不在包内或不在 data/ 下",
                       "path '%s' is outside the bag or outside data/"},
    [BS_D_BAG_OTHER_ALGO] = {"未校验（只支持 SHA-256）",
                             "not checked (only SHA-256 is supported)"},
    [BS_D_BAG_OXUM_FORMAT] = {"Payload-Oxum 应为“字节数.文件数”：%s",
                              "Payload-Oxum must be 'OCTETS.COUNT': %s"},
    [BS_D_BAG_DEEP] = {"文件夹嵌套超过 %d 层，更深处未检查",
                       "folders nested deeper than %d; the rest not checked"},
    [BS_D_COLLATION] = {"排序规则无法使用：%s（ICU：%s）",
                        "collation rules cannot be used: %s (ICU: %s)"},
    [BS_D_IO_SPECIAL] = {"不是普通文件（FIFO、设备、套接字或文件夹），拒绝读取",
                         "not a regular file (a FIFO, device, socket or "
                         "folder); refused, nothing read"},
    [BS_D_IO_PSEUDO] = {"是 /proc 或 /sys 下的虚拟文件，大小未知，拒绝读取",
                        "a /proc or /sys file of unknown size; refused, "
                        "nothing read"},
    [BS_D_IO_CHANGED] = {"读取过程中文件大小发生变化",
                         "the file changed size while it was read"},
    [BS_D_OUTPUT_IS_INPUT] = {"输出“%s”就是输入文件“%s”（或指向它的链接），"
                              "拒绝覆盖",
                              "the output '%s' is the input '%s' (or a link "
                              "to it); refused, nothing overwritten"},
    [BS_D_NAME_CONTROL] = {"输出文件名“%s”含有控制字符（如换行），拒绝写入",
                           "the output name '%s' holds a control character "
                           "(such as a line break); refused"},
    [BS_D_WORKER_CRASH] = {"处理此文档的进程异常终止（%s），其余文档继续处理",
                           "the process rendering this document ended (%s); "
                           "the batch goes on"},
    [BS_D_MANIFEST_TEXT] = {"清单第 %u 行无法使用（%s），停止读取此清单",
                            "line %u of the manifest cannot be used (%s); "
                            "the manifest is not read further"},
    [BS_D_PDF_CHANGED] = {"PDF 与批量生成记录不符（SHA-256 不同），拒绝打包；"
                          "请重新运行 banshi batch",
                          "the PDF differs from its batch record (SHA-256); "
                          "refused (run banshi batch again)"},
    /* batch and archive about the run itself (a line each) */
    [BS_D_BATCH_PROGRESS] = {"banshi：已完成 %zu/%zu（%d%%），失败 %zu，每秒 %.1f 份，"
                      "预计还需 %s\n",
                      "banshi: %zu/%zu done (%d%%), %zu failed, %.1f/s, "
                      "%s left\n"},
    [BS_D_BATCH_PROGRESS_TTY] = {"%zu/%zu  失败 %zu  %.1f 份/秒  剩余 %s",
                          "%zu/%zu  %zu failed  %.1f/s  %s left"},
    [BS_D_BATCH_INTERRUPT] = {"banshi：收到信号，正在完成处理中的 %zu 份文档，"
                       "不再开始新的文档（再次中断则立即退出）\n",
                       "banshi: interrupted: finishing the %zu documents in "
                       "flight, starting no more (interrupt again to stop "
                       "at once)\n"},
    [BS_D_BATCH_SUMMARY] = {"banshi：共 %zu 份：生成 %zu，已是最新 %zu，无效 %zu，"
                     "失败 %zu，未处理 %zu；用时 %.1f 秒\n",
                     "banshi: %zu sources: %zu written, %zu up to date, "
                     "%zu invalid, %zu failed, %zu not run; %.1f s\n"},
    [BS_D_BATCH_LOG] = {"banshi：结果日志 %s\n", "banshi: result log %s\n"},
    [BS_D_ARCHIVE_WRITTEN] = {"banshi：已生成 BagIt 包 %s：%zu 份文档，%zu 个文件，"
                     "%lld 字节\n",
                     "banshi: wrote the bag %s: %zu documents, %zu files, "
                     "%lld bytes\n"},
    [BS_D_ARCHIVE_VALID] = {"banshi：BagIt 包 %s 完好：%ld 个文件的校验和一致\n",
                   "banshi: the bag %s is valid: %ld files match their "
                   "checksums\n"},
    [BS_D_ARCHIVE_INVALID] = {"banshi：BagIt 包 %s 有 %u 处问题\n",
                     "banshi: the bag %s has %u problems\n"},
    [BS_D_ARCHIVE_EXISTS] = {"banshi：%s 已存在；请为新包另选名称\n",
                    "banshi: %s exists; choose another name for the bag\n"},
    [BS_D_ARCHIVE_EMPTY] = {"banshi：%s 中没有 PDF，未生成 BagIt 包\n",
                   "banshi: no PDF in %s; no bag written\n"},
    [BS_D_ARCHIVE_LEFT_OUT_COUNT] =
        {"banshi：批量生成中 %zu 份源文件未能生成 PDF，未收入包中，"
         "已列于 data/left-out.csv\n",
         "banshi: %zu sources of the batch have no PDF and are "
         "not in the bag; data/left-out.csv lists them\n"},
    [BS_D_ARCHIVE_NO_LOG] = {"banshi：%s 中没有批量生成日志（banshi-batch*.jsonl），"
                    "无法列出未能生成 PDF 的源文件\n",
                    "banshi: no batch log (banshi-batch*.jsonl) in %s: "
                    "sources without a PDF cannot be listed\n"},
    [BS_D_STDIN] = {"无法读取标准输入：%s", "cannot read standard input: %s"},
    [BS_D_NEW_YEAR] = {"--year 应为年份（如 2023），而不是“%s”",
                       "--year takes a year such as 2023, not '%s'"},
    [BS_D_NEW_ISSUER] = {"--issuer 应为发布机关名称",
                         "--issuer takes the name of the issuing body"},
    [BS_D_NEW_EXISTS] = {"文件“%s”已存在，未覆盖（请删除或换一个文件名）",
                         "'%s' exists; not replaced (remove it or choose "
                         "another name)"},
    [BS_D_NEW_WRITTEN] = {"已写入 %s；填写后请运行 banshi validate %s",
                          "wrote %s; fill it in, then run banshi validate %s"},
    [BS_D_ICC_MISSING] = {"缺少 PDF/A 所需的 sRGB ICC 色彩特性文件 %s"
                          "（Debian 软件包 icc-profiles-free）",
                          "the sRGB ICC profile %s that PDF/A needs is "
                          "missing (Debian package icc-profiles-free)"},
    [BS_D_LIBRARY] = {"无法加载库 %s（用于%s）：%s",
                      "cannot load the library %s (needed for %s): %s"},
};

const char *
bs_io_strerror(int e, bs_lang lang)
{
  switch (e) {
  case BS_E_SPECIAL:
    return bs_diag_format(BS_D_IO_SPECIAL, lang);
  case BS_E_PSEUDO:
    return bs_diag_format(BS_D_IO_PSEUDO, lang);
  case BS_E_CHANGED:
    return bs_diag_format(BS_D_IO_CHANGED, lang);
  default:
    return strerror(e);
  }
}

const char *
bs_diag_format(bs_code code, bs_lang lang)
{
  if ((unsigned)code >= BS_D_CODE_COUNT)
    return "%s";
  return lang == BS_LANG_EN ? S_catalog[code].en : S_catalog[code].zh;
}

const char *
bs_severity_name(bs_severity sev)
{
  switch (sev) {
  case BS_ERROR:
    return "error";
  case BS_WARNING:
    return "warning";
  default:
    return "note";
  }
}

void
bs_diags_init(bs_diags *d, bs_arena *arena, bs_lang lang)
{
  memset(d, 0, sizeof *d);
  d->arena = arena;
  d->items.esize = sizeof(bs_diagnostic);
  d->lang = lang;
  d->max_per_code = 200;
}

void
bs_diags_free(bs_diags *d)
{
  bs_vec_free(&d->items);
}

/* Each argument of `fmt` formatted alone, as the message shows it: the
 * values of a JSON diagnostic.  Knows the conversions the catalogue and the
 * callers of bs_diag_text use (flags, width, precision, '*', the length
 * modifiers h hh l ll z j t, and d i u o x X c s p f e g); stops at any
 * other. */
static const char *const *
S_values(bs_arena *a, const char *fmt, va_list ap, unsigned *n)
{
  const char *vals[16];
  unsigned k = 0;
  for (const char *p = fmt; *p && k < 16; p++) {
    if (*p != '%')
      continue;
    if (p[1] == '%') {
      p++;
      continue;
    }
    const char *s = p++;
    int star[2], nstar = 0;
    p += strspn(p, "-+ #0");
    if (*p == '*') {
      star[nstar++] = va_arg(ap, int);
      p++;
    } else
      p += strspn(p, "0123456789");
    if (*p == '.') {
      p++;
      if (*p == '*') {
        star[nstar++] = va_arg(ap, int);
        p++;
      } else
        p += strspn(p, "0123456789");
    }
    int lm = 0; /* 1 h/hh, 2 l, 3 ll, 4 z, 5 j, 6 t */
    if (*p == 'h') {
      lm = 1;
      p += p[1] == 'h' ? 2 : 1;
    } else if (*p == 'l') {
      lm = p[1] == 'l' ? 3 : 2;
      p += lm == 3 ? 2 : 1;
    } else if (*p == 'z' || *p == 'j' || *p == 't') {
      lm = *p == 'z' ? 4 : *p == 'j' ? 5 : 6;
      p++;
    }
    char spec[32];
    size_t sl = (size_t)(p - s) + 1;
    if (sl >= sizeof spec || !strchr("diuoxXcspfeg", *p) || !*p)
      break;
    memcpy(spec, s, sl);
    spec[sl] = '\0';
    char buf[512];
    char *v = buf;
    int w0 = nstar > 0 ? star[0] : 0, w1 = nstar > 1 ? star[1] : 0;
#define S_FMT(x)                                                              \
  (nstar == 2   ? snprintf(buf, sizeof buf, spec, w0, w1, x)                   \
   : nstar == 1 ? snprintf(buf, sizeof buf, spec, w0, x)                       \
                : snprintf(buf, sizeof buf, spec, x))
    switch (*p) {
    case 's': {
      const char *str = va_arg(ap, const char *);
      int len = nstar == 2 ? snprintf(NULL, 0, spec, w0, w1, str)
                : nstar == 1 ? snprintf(NULL, 0, spec, w0, str)
                             : snprintf(NULL, 0, spec, str);
      if (len >= (int)sizeof buf) {
        v = bs_arena_alloc(a, (size_t)len + 1);
        if (nstar == 2)
          snprintf(v, (size_t)len + 1, spec, w0, w1, str);
        else if (nstar == 1)
          snprintf(v, (size_t)len + 1, spec, w0, str);
        else
          snprintf(v, (size_t)len + 1, spec, str);
      } else
        S_FMT(str);
      break;
    }
    case 'p':
      S_FMT(va_arg(ap, void *));
      break;
    case 'f':
    case 'e':
    case 'g':
      S_FMT(va_arg(ap, double));
      break;
    case 'c':
      S_FMT(va_arg(ap, int));
      break;
    default:
      switch (lm) {
      case 2:
        S_FMT(va_arg(ap, long));
        break;
      case 3:
        S_FMT(va_arg(ap, long long));
        break;
      case 4:
        S_FMT(va_arg(ap, size_t));
        break;
      case 5:
        S_FMT(va_arg(ap, intmax_t));
        break;
      case 6:
        S_FMT(va_arg(ap, ptrdiff_t));
        break;
      default:
        S_FMT(va_arg(ap, int));
        break;
      }
    }
#undef S_FMT
    vals[k++] = v == buf ? bs_arena_strdup(a, buf) : v;
  }
  *n = k;
  if (!k)
    return NULL;
  const char **out = bs_arena_alloc(a, k * sizeof *out);
  memcpy(out, vals, k * sizeof *out);
  return out;
}

static void
S_push(bs_diags *d, bs_severity sev, bs_code code, const char *file,
       uint32_t line, uint32_t col, const char *msg,
       const char *const *values, unsigned nvalues)
{
  if (sev == BS_ERROR)
    d->errors++;
  else if (sev == BS_WARNING)
    d->warnings++;
  if ((unsigned)code < BS_D_CODE_COUNT) {
    unsigned n = ++d->per_code[code];
    /* Codes with variable text from libraries are not capped. */
    if (d->max_per_code && n > d->max_per_code && code != BS_D_TEXT)
      return;
  }
  bs_diagnostic item = {file ? bs_arena_strdup(d->arena, file) : NULL,
                  line,
                  line ? col : 0,
                  sev,
                  code,
                  msg,
                  values,
                  nvalues};
  bs_vec_push(&d->items, &item);
}

bool
bs_diag_wanted(const bs_diags *d, bs_code code)
{
  return !d->max_per_code || (unsigned)code >= BS_D_CODE_COUNT ||
         code == BS_D_TEXT || d->per_code[code] < d->max_per_code;
}

void
bs_diag_count(bs_diags *d, bs_severity sev, bs_code code)
{
  S_push(d, sev, code, NULL, 0, 0, "", NULL, 0);
}

void
bs_diag(bs_diags *d, bs_severity sev, bs_code code, const char *file,
        uint32_t line, uint32_t col, ...)
{
  va_list ap, ap2, ap3;
  const char *fmt = bs_diag_format(code, d->lang);
  va_start(ap, col);
  va_copy(ap2, ap);
  va_copy(ap3, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  char *msg = bs_arena_alloc(d->arena, (size_t)n + 1);
  vsnprintf(msg, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  unsigned nv = 0;
  const char *const *vals = S_values(d->arena, fmt, ap3, &nv);
  va_end(ap3);
  S_push(d, sev, code, file, line, col, msg, vals, nv);
}

void
bs_diag_text(bs_diags *d, bs_severity sev, bs_code code, const char *file,
             uint32_t line, uint32_t col, const char *fmt, ...)
{
  va_list ap, ap2, ap3;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  va_copy(ap3, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  char *msg = bs_arena_alloc(d->arena, (size_t)n + 1);
  vsnprintf(msg, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  /* Trim trailing newlines that libraries put on their messages. */
  size_t len = strlen(msg);
  while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
    msg[--len] = '\0';
  unsigned nv = 0;
  const char *const *vals = S_values(d->arena, fmt, ap3, &nv);
  va_end(ap3);
  S_push(d, sev, code, file, line, col, msg, vals, nv);
}

typedef struct {
  const bs_diagnostic *d;
  size_t seq;
} S_sortkey;

static int
S_cmp(const void *pa, const void *pb)
{
  const S_sortkey *a = pa, *b = pb;
  const char *fa = a->d->file ? a->d->file : "";
  const char *fb = b->d->file ? b->d->file : "";
  int c = strcmp(fa, fb);
  if (c)
    return c;
  if (a->d->line != b->d->line)
    return a->d->line < b->d->line ? -1 : 1;
  if (a->d->col != b->d->col)
    return a->d->col < b->d->col ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The diagnostics in the order they are printed (free the result). */
static S_sortkey *
S_sorted(const bs_diags *d)
{
  size_t n = d->items.len;
  const bs_diagnostic *items = d->items.data;
  S_sortkey *keys = bs_xmalloc((n ? n : 1) * sizeof *keys);
  for (size_t i = 0; i < n; i++) {
    keys[i].d = &items[i];
    keys[i].seq = i;
  }
  qsort(keys, n, sizeof *keys, S_cmp);
  return keys;
}

void
bs_json_string(FILE *out, const char *s)
{
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", out);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

static void
S_json_one(FILE *out, const char *file, uint32_t line, uint32_t col,
           bs_severity sev, bs_code code, const char *msg,
           const char *const *values, unsigned nvalues)
{
  fputs("{\"file\":", out);
  if (file)
    bs_json_string(out, file);
  else
    fputs("null", out);
  if (line)
    fprintf(out, ",\"line\":%u", line);
  else
    fputs(",\"line\":null", out);
  if (line && col)
    fprintf(out, ",\"column\":%u", col);
  else
    fputs(",\"column\":null", out);
  fprintf(out, ",\"severity\":\"%s\",\"rule\":", bs_severity_name(sev));
  bs_json_string(out, bs_code_name(code));
  fputs(",\"message\":", out);
  bs_json_string(out, msg);
  fputs(",\"values\":[", out);
  for (unsigned i = 0; i < nvalues; i++) {
    if (i)
      fputc(',', out);
    bs_json_string(out, values[i]);
  }
  fputs("]}\n", out);
}

unsigned
bs_diags_print_json(bs_diags *d, FILE *out)
{
  size_t n = d->items.len;
  S_sortkey *keys = S_sorted(d);
  unsigned errors = 0;
  for (size_t i = 0; i < n; i++) {
    const bs_diagnostic *g = keys[i].d;
    if (g->severity < d->shown)
      continue;
    S_json_one(out, g->file, g->line, g->col, g->severity, g->code,
               g->message, g->values, g->nvalues);
    if (g->severity == BS_ERROR)
      errors++;
  }
  for (unsigned c = 0; c < BS_D_CODE_COUNT; c++) {
    if (d->max_per_code && d->per_code[c] > d->max_per_code &&
        c != BS_D_TEXT) {
      char msg[256], num[16];
      unsigned more = d->per_code[c] - d->max_per_code;
      snprintf(msg, sizeof msg, bs_diag_format(BS_D_TOO_MANY, d->lang), more);
      snprintf(num, sizeof num, "%u", more);
      const char *vals[2] = {num, bs_code_name((bs_code)c)};
      S_json_one(out, NULL, 0, 0, BS_NOTE, BS_D_TOO_MANY, msg, vals, 2);
    }
  }
  free(keys);
  return errors;
}

unsigned
bs_diags_print(bs_diags *d, FILE *out)
{
  size_t n = d->items.len;
  S_sortkey *keys = S_sorted(d);
  unsigned errors = 0;
  for (size_t i = 0; i < n; i++) {
    const bs_diagnostic *g = keys[i].d;
    if (g->severity < d->shown)
      continue;
    const char *file = g->file ? g->file : "banshi";
    if (g->line && g->col)
      fprintf(out, "%s:%u:%u: ", file, g->line, g->col);
    else if (g->line)
      fprintf(out, "%s:%u: ", file, g->line);
    else
      fprintf(out, "%s: ", file);
    fprintf(out, "%s: %s\n", bs_severity_name(g->severity), g->message);
    if (g->severity == BS_ERROR)
      errors++;
  }
  /* Report what the per-code cap held back. */
  for (unsigned c = 0; c < BS_D_CODE_COUNT; c++) {
    if (d->max_per_code && d->per_code[c] > d->max_per_code &&
        c != BS_D_TEXT) {
      fprintf(out, "banshi: note: ");
      fprintf(out, bs_diag_format(BS_D_TOO_MANY, d->lang),
              d->per_code[c] - d->max_per_code);
      fputc('\n', out);
    }
  }
  free(keys);
  return errors;
}
