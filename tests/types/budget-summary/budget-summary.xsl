<?xml version="1.0" encoding="UTF-8"?>
<!-- budget-summary (test-only report type) -> banshi core document. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:b="urn:banshi:test:budget-summary"
    xmlns:bsloc="urn:banshi:source-location"
    exclude-result-prefixes="b bsloc">
  <xsl:template match="/b:budget-summary">
    <document version="1" xml:lang="zh-CN">
      <meta>
        <title><xsl:value-of select="b:title"/></title>
        <issuer><xsl:value-of select="b:issuer"/></issuer>
        <year><xsl:value-of select="@year"/></year>
        <date><xsl:value-of select="b:date"/></date>
      </meta>
      <body>
        <p><xsl:copy-of select="b:intro/@bsloc:at"/><xsl:value-of select="b:intro"/></p>
        <table>
          <thead><tr><th>项目</th><th>金额（万元）</th></tr></thead>
          <tbody>
            <xsl:for-each select="b:income">
              <tr><xsl:copy-of select="@bsloc:at"/><td><xsl:value-of select="@item"/></td><td><xsl:value-of select="@amount"/></td></tr>
            </xsl:for-each>
            <tr><xsl:copy-of select="b:total/@bsloc:at"/><td>合计</td><td><xsl:value-of select="b:total/@amount"/></td></tr>
          </tbody>
        </table>
      </body>
    </document>
  </xsl:template>
</xsl:stylesheet>
