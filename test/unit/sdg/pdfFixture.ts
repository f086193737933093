// Hand-written PDFs for document tests: a catalog, a page tree, a Helvetica font and one content stream per page
// that draws lines of text with Td moves (a wider move between paragraphs), plus a correct xref table.

/** Each page is a list of paragraphs; each paragraph a list of lines (Latin-1 text). */
export function makePdf(pages: string[][][], options: { leading?: number; fontSize?: number } = {}): Buffer {
  const size = options.fontSize ?? 12;
  const leading = options.leading ?? 14;
  const objects: string[] = [];
  objects.push('<< /Type /Catalog /Pages 2 0 R >>');
  const kids = pages.map((_, i) => `${4 + i * 2} 0 R`).join(' ');
  objects.push(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  pages.forEach((paragraphs, i) => {
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + i * 2} 0 R >>`);
    let stream = `BT /F1 ${size} Tf 72 720 Td\n`;
    let first = true;
    paragraphs.forEach((lines, p) => {
      lines.forEach((line, l) => {
        if (!first) stream += `0 ${-(l === 0 && p > 0 ? leading * 2 : leading)} Td\n`;
        first = false;
        stream += `(${line.replace(/[\\()]/g, (c) => `\\${c}`)}) Tj\n`;
      });
    });
    stream += 'ET';
    objects.push(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
  });
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
