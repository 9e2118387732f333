// SPDX-License-Identifier: Apache-2.0
// Batch driver for Apache FOP: one JVM and one FopFactory render every
// input through the FOP API (the fop command has no multi-file mode).
// usage: java -cp CLASSPATH FopBatch fop.xconf OUTDIR PROFILE|- IN.fo...
//   PROFILE: "PDF/A-1b" to write PDF/A, "-" for plain PDF.
// OUTDIR/NAME.pdf is written for each IN NAME.fo.
import java.io.*;
import javax.xml.transform.*;
import javax.xml.transform.sax.SAXResult;
import javax.xml.transform.stream.StreamSource;
import org.apache.fop.apps.*;

public class FopBatch {
  public static void main(String[] a) throws Exception {
    File conf = new File(a[0]).getAbsoluteFile();
    File outDir = new File(a[1]);
    String profile = a[2].equals("-") ? null : a[2];
    outDir.mkdirs();
    FopFactory ff = FopFactory.newInstance(conf);
    TransformerFactory tf = TransformerFactory.newInstance();
    for (int i = 3; i < a.length; i++) {
      File in = new File(a[i]);
      String name = in.getName().replaceAll("\\.fo$", "") + ".pdf";
      FOUserAgent ua = ff.newFOUserAgent();
      if (profile != null)
        ua.getRendererOptions().put("pdf-a-mode", profile);
      try (OutputStream out = new BufferedOutputStream(
               new FileOutputStream(new File(outDir, name)))) {
        Fop fop = ff.newFop(MimeConstants.MIME_PDF, ua, out);
        Transformer t = tf.newTransformer();
        t.transform(new StreamSource(in), new SAXResult(fop.getDefaultHandler()));
      }
    }
  }
}
