<?xml version="1.0" encoding="UTF-8"?>
<!-- SPDX-License-Identifier: Apache-2.0 -->
<!--
  政府信息公开工作年度报告 source (schemas/disclosure-annual-report) -> banshi
  core document (schemas/document.xsd).

  The six sections and their headings are those of both official formats;
  the prose of 一、五、六 (and any paragraphs before a table) is copied as
  written.  Tables 二, 三 and 四 are generated from the numbers with every
  row and column label of the official format verbatim and its merged cells:
  format="2019" follows 国办公开办函〔2019〕60号, format="2021"
  国办公开办函〔2021〕30号 (table 二 changed; table 三 gained the three rows
  of （六）其他处理).  Facts: shared/notes/disclosure-report-format.md.

  bsloc:at attributes carry source offsets (pipeline/report.c): copy-of
  keeps them on copied prose, and generated rows and cells copy them from
  the source element they come from, so messages about the generated
  document still point into the source.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:bsloc="urn:banshi:source-location"
    exclude-result-prefixes="bsloc">

  <xsl:output method="xml" encoding="UTF-8" indent="no"/>

  <xsl:template match="/disclosure-report">
    <document version="1">
      <xsl:attribute name="xml:lang">
        <xsl:choose>
          <xsl:when test="@xml:lang"><xsl:value-of select="@xml:lang"/></xsl:when>
          <xsl:otherwise>zh-CN</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <xsl:copy-of select="meta"/>
      <body>
        <xsl:copy-of select="@bsloc:at"/>
        <!-- 引言: the lead paragraph(s) before 一、总体情况 -->
        <xsl:copy-of select="preamble/*"/>
        <section>
          <xsl:copy-of select="overview/@bsloc:at"/>
          <heading>总体情况</heading>
          <xsl:copy-of select="overview/*"/>
        </section>
        <section>
          <xsl:copy-of select="active/@bsloc:at"/>
          <heading>主动公开政府信息情况</heading>
          <xsl:apply-templates select="active"/>
        </section>
        <section>
          <xsl:copy-of select="applications/@bsloc:at"/>
          <heading>收到和处理政府信息公开申请情况</heading>
          <xsl:apply-templates select="applications"/>
        </section>
        <section>
          <xsl:copy-of select="reviews/@bsloc:at"/>
          <heading>政府信息公开行政复议、行政诉讼情况</heading>
          <xsl:apply-templates select="reviews"/>
        </section>
        <section>
          <xsl:copy-of select="problems/@bsloc:at"/>
          <heading>存在的主要问题及改进情况</heading>
          <xsl:copy-of select="problems/*"/>
        </section>
        <section>
          <xsl:copy-of select="other-matters/@bsloc:at"/>
          <heading>其他需要报告的事项</heading>
          <xsl:copy-of select="other-matters/*"/>
        </section>
      </body>
      <xsl:copy-of select="closing"/>
    </document>
  </xsl:template>

  <!-- what follows a table: notes ("注：…", the prefix added when the note
       does not write it) and blocks explaining the numbers, in order.  The
       blocks written before a table are the elements before its first row
       element, those after it the elements after its last (the schemas
       allow blocks and notes nowhere else). -->
  <xsl:template match="note" mode="after-table">
    <p>
      <xsl:copy-of select="@*"/>
      <xsl:if test="not(starts-with(normalize-space(.), '注'))">注：</xsl:if>
      <xsl:copy-of select="node()"/>
    </p>
  </xsl:template>
  <xsl:template match="*" mode="after-table">
    <xsl:copy-of select="."/>
  </xsl:template>

  <!-- 表二 -->
  <xsl:template match="active">
    <xsl:copy-of select="item-1/preceding-sibling::*"/>
    <table size="五号">
      <xsl:copy-of select="@bsloc:at"/>
      <xsl:choose>
        <xsl:when test="/disclosure-report/@format = '2021'">
          <colgroup><col width="34%"/><col width="22%"/><col width="22%"/><col width="22%"/></colgroup>
        </xsl:when>
        <!-- 2019: the form's five-column grid, so that three values share
             the width in thirds and two values in halves -->
        <xsl:otherwise>
          <colgroup><col width="28%"/><col width="24%"/><col width="12%"/><col width="12%"/><col width="24%"/></colgroup>
        </xsl:otherwise>
      </xsl:choose>
      <tbody>
        <xsl:choose>
          <xsl:when test="/disclosure-report/@format = '2021'">
        <tr><th colspan="4">第二十条第（一）项</th></tr>
        <tr><th>信息内容</th><th>本年制发件数</th><th>本年废止件数</th><th>现行有效件数</th></tr>
        <xsl:for-each select="item-1/regulations"><tr><xsl:copy-of select="@bsloc:at"/><td>规章</td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@issued"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@repealed"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@in-force"/></td></tr></xsl:for-each>
        <xsl:for-each select="item-1/administrative-normative-documents"><tr><xsl:copy-of select="@bsloc:at"/><td>行政规范性文件</td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@issued"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@repealed"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@in-force"/></td></tr></xsl:for-each>
        <tr><th colspan="4">第二十条第（五）项</th></tr>
        <tr><th>信息内容</th><th colspan="3">本年处理决定数量</th></tr>
        <xsl:for-each select="item-5/licensing"><tr><xsl:copy-of select="@bsloc:at"/><td>行政许可</td><td colspan="3"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@decisions"/></td></tr></xsl:for-each>
        <tr><th colspan="4">第二十条第（六）项</th></tr>
        <tr><th>信息内容</th><th colspan="3">本年处理决定数量</th></tr>
        <xsl:for-each select="item-6/penalties"><tr><xsl:copy-of select="@bsloc:at"/><td>行政处罚</td><td colspan="3"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@decisions"/></td></tr></xsl:for-each>
        <xsl:for-each select="item-6/enforcement"><tr><xsl:copy-of select="@bsloc:at"/><td>行政强制</td><td colspan="3"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@decisions"/></td></tr></xsl:for-each>
        <tr><th colspan="4">第二十条第（八）项</th></tr>
        <tr><th>信息内容</th><th colspan="3">本年收费金额（单位：万元）</th></tr>
        <xsl:for-each select="item-8/fees"><tr><xsl:copy-of select="@bsloc:at"/><td>行政事业性收费</td><td colspan="3"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@amount"/></td></tr></xsl:for-each>
          </xsl:when>
          <xsl:otherwise>
        <tr><th colspan="5">第二十条第（一）项</th></tr>
        <tr><th>信息内容</th><th>本年新制作数量</th><th colspan="2">本年新公开数量</th><th>对外公开总数量</th></tr>
        <xsl:for-each select="item-1/regulations"><tr><xsl:copy-of select="@bsloc:at"/><td>规章</td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@made"/></td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@published"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@public-total"/></td></tr></xsl:for-each>
        <xsl:for-each select="item-1/normative-documents"><tr><xsl:copy-of select="@bsloc:at"/><td>规范性文件</td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@made"/></td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@published"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@public-total"/></td></tr></xsl:for-each>
        <tr><th colspan="5">第二十条第（五）项</th></tr>
        <tr><th>信息内容</th><th>上一年项目数量</th><th colspan="2">本年增/减</th><th>处理决定数量</th></tr>
        <xsl:for-each select="item-5/licensing"><tr><xsl:copy-of select="@bsloc:at"/><td>行政许可</td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@previous"/></td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@change"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@decisions"/></td></tr></xsl:for-each>
        <xsl:for-each select="item-5/other-services"><tr><xsl:copy-of select="@bsloc:at"/><td>其他对外管理服务事项</td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@previous"/></td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@change"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@decisions"/></td></tr></xsl:for-each>
        <tr><th colspan="5">第二十条第（六）项</th></tr>
        <tr><th>信息内容</th><th>上一年项目数量</th><th colspan="2">本年增/减</th><th>处理决定数量</th></tr>
        <xsl:for-each select="item-6/penalties"><tr><xsl:copy-of select="@bsloc:at"/><td>行政处罚</td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@previous"/></td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@change"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@decisions"/></td></tr></xsl:for-each>
        <xsl:for-each select="item-6/enforcement"><tr><xsl:copy-of select="@bsloc:at"/><td>行政强制</td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@previous"/></td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@change"/></td><td><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@decisions"/></td></tr></xsl:for-each>
        <tr><th colspan="5">第二十条第（八）项</th></tr>
        <tr><th>信息内容</th><th colspan="2">上一年项目数量</th><th colspan="2">本年增/减</th></tr>
        <xsl:for-each select="item-8/fees"><tr><xsl:copy-of select="@bsloc:at"/><td>行政事业性收费</td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@previous"/></td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@change"/></td></tr></xsl:for-each>
        <tr><th colspan="5">第二十条第（九）项</th></tr>
        <tr><th>信息内容</th><th colspan="2">采购项目数量</th><th colspan="2">采购总金额</th></tr>
        <xsl:for-each select="item-9/procurement"><tr><xsl:copy-of select="@bsloc:at"/><td>政府集中采购</td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@projects"/></td><td colspan="2"><xsl:copy-of select="@bsloc:at"/><xsl:value-of select="@total-amount"/><xsl:value-of select="@unit"/></td></tr></xsl:for-each>
          </xsl:otherwise>
        </xsl:choose>
      </tbody>
    </table>
    <xsl:apply-templates select="item-8/following-sibling::*[not(self::item-9)]" mode="after-table"/>
  </xsl:template>

  <!-- 表三: the seven number cells of one row -->
  <xsl:template name="applicant-cells">
    <td><xsl:value-of select="@natural"/></td>
    <td><xsl:value-of select="@business"/></td>
    <td><xsl:value-of select="@research"/></td>
    <td><xsl:value-of select="@nonprofit"/></td>
    <td><xsl:value-of select="@legal"/></td>
    <td><xsl:value-of select="@other-org"/></td>
    <td><xsl:value-of select="@total"/></td>
  </xsl:template>

  <xsl:template match="applications">
    <xsl:copy-of select="new/preceding-sibling::*"/>
    <table size="五号">
      <xsl:copy-of select="@bsloc:at"/>
      <colgroup><col width="9%"/><col width="13%"/><col width="34%"/><col width="6.3%"/><col width="6.3%"/><col width="6.3%"/><col width="6.3%"/><col width="6.3%"/><col width="6.3%"/><col width="6.2%"/></colgroup>
      <thead>
        <tr><th colspan="3" rowspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</th><th colspan="7">申请人情况</th></tr>
        <tr><th rowspan="2">自然人</th><th colspan="5">法人或其他组织</th><th rowspan="2">总计</th></tr>
        <tr><th>商业企业</th><th>科研机构</th><th>社会公益组织</th><th>法律服务机构</th><th>其他</th></tr>
      </thead>
      <tbody>
        <xsl:apply-templates select="*[@natural] | results//*" mode="table-3"/>
      </tbody>
    </table>
    <xsl:apply-templates select="carry-forward/following-sibling::*" mode="after-table"/>
  </xsl:template>

  <!-- the groups of rows (withheld, unavailable, ...) make none themselves -->
  <xsl:template match="*" mode="table-3"/>
  <!-- 表三's rows, one template a source row: the section's rows are
       selected once, in document order, which the schemas make the table's -->
  <xsl:template match="new" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td colspan="3" align="left">一、本年新收政府信息公开申请数量</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="carried-over" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td colspan="3" align="left">二、上年结转政府信息公开申请数量</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="granted" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><xsl:choose><xsl:when test="/disclosure-report/@format = '2021'"><td rowspan="22" align="left">三、本年度办理结果</td></xsl:when><xsl:otherwise><td rowspan="20" align="left">三、本年度办理结果</td></xsl:otherwise></xsl:choose><td colspan="2" align="left">（一）予以公开</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="partly-granted" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td colspan="2" align="left">（二）部分公开（区分处理的，只计这一情形，不计其他情形）</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="state-secret" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td rowspan="8" align="left">（三）不予公开</td><td align="left">1.属于国家秘密</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="prohibited-by-law" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">2.其他法律行政法规禁止公开</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="security-stability" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">3.危及“三安全一稳定”</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="third-party" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">4.保护第三方合法权益</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="internal-affairs" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">5.属于三类内部事务信息</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="process-information" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">6.属于四类过程性信息</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="enforcement-files" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">7.属于行政执法案卷</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="inquiry" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">8.属于行政查询事项</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="not-held" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td rowspan="3" align="left">（四）无法提供</td><td align="left">1.本机关不掌握相关政府信息</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="needs-creation" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">2.没有现成信息需要另行制作</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="unclear" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">3.补正后申请内容仍不明确</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="complaint" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td rowspan="5" align="left">（五）不予处理</td><td align="left">1.信访举报投诉类申请</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="repeated" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">2.重复申请</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="publication" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">3.要求提供公开出版物</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="excessive" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">4.无正当理由大量反复申请</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="confirmation" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">5.要求行政机关确认或重新出具已获取信息</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <!-- 2019: 其他处理 is one row; 2021: its three rows -->
  <xsl:template match="other-handling[@natural]" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td colspan="2" align="left">（六）其他处理</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="no-correction" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td rowspan="3" align="left">（六）其他处理</td><td align="left">1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="no-fee" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="other-reasons" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td align="left">3.其他</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="total" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td colspan="2" align="left">（七）总计</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>
  <xsl:template match="carry-forward" mode="table-3">
    <tr><xsl:copy-of select="@bsloc:at"/><td colspan="3" align="left">四、结转下年度继续办理</td><xsl:call-template name="applicant-cells"/></tr>
  </xsl:template>

  <!-- 表四 -->
  <xsl:template match="reviews">
    <xsl:copy-of select="review/preceding-sibling::*"/>
    <table size="五号">
      <xsl:copy-of select="@bsloc:at"/>
      <thead>
        <tr><th colspan="5">行政复议</th><th colspan="10">行政诉讼</th></tr>
        <tr><th rowspan="2">结果维持</th><th rowspan="2">结果纠正</th><th rowspan="2">其他结果</th><th rowspan="2">尚未审结</th><th rowspan="2">总计</th><th colspan="5">未经复议直接起诉</th><th colspan="5">复议后起诉</th></tr>
        <tr><th>结果维持</th><th>结果纠正</th><th>其他结果</th><th>尚未审结</th><th>总计</th><th>结果维持</th><th>结果纠正</th><th>其他结果</th><th>尚未审结</th><th>总计</th></tr>
      </thead>
      <tbody>
        <tr>
          <xsl:copy-of select="review/@bsloc:at"/>
          <xsl:for-each select="review | lawsuit-direct | lawsuit-after-review">
            <td><xsl:value-of select="@upheld"/></td>
            <td><xsl:value-of select="@corrected"/></td>
            <td><xsl:value-of select="@other-result"/></td>
            <td><xsl:value-of select="@pending"/></td>
            <td><xsl:value-of select="@total"/></td>
          </xsl:for-each>
        </tr>
      </tbody>
    </table>
    <xsl:apply-templates select="lawsuit-after-review/following-sibling::*" mode="after-table"/>
  </xsl:template>
</xsl:stylesheet>
