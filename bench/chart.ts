/** A small SVG line chart of completed targets over time, one line per mode. */
export function completionChart(title: string, lines: Array<{ label: string; points: Array<{ t: number; done: number }> }>): string {
  const width = 640;
  const height = 360;
  const pad = { left: 70, right: 150, top: 40, bottom: 45 };
  const maxT = Math.max(1, ...lines.flatMap((l) => l.points.map((p) => p.t)));
  const maxDone = Math.max(1, ...lines.flatMap((l) => l.points.map((p) => p.done)));
  const x = (t: number) => pad.left + (t / maxT) * (width - pad.left - pad.right);
  const y = (done: number) => height - pad.bottom - (done / maxDone) * (height - pad.top - pad.bottom);
  const colors = ['#1b7f3b', '#1f5fbf', '#c0392b', '#8e44ad'];
  const paths = lines.map((line, i) => {
    const d = line.points.map((p, j) => `${j ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.done).toFixed(1)}`).join(' ');
    const legendY = pad.top + 20 * i;
    return (
      `<path d="${d}" fill="none" stroke="${colors[i % colors.length]}" stroke-width="2"/>` +
      `<rect x="${width - pad.right + 15}" y="${legendY - 9}" width="12" height="12" fill="${colors[i % colors.length]}"/>` +
      `<text x="${width - pad.right + 32}" y="${legendY + 2}">${escape(line.label)}</text>`
    );
  });
  const axis =
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#333"/>` +
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#333"/>` +
    `<text x="${pad.left}" y="${height - 12}">0 s</text>` +
    `<text x="${width - pad.right}" y="${height - 12}" text-anchor="end">${maxT.toFixed(0)} s</text>` +
    `<text x="${pad.left - 8}" y="${pad.top + 4}" text-anchor="end">${maxDone}</text>` +
    `<text x="${pad.left - 8}" y="${height - pad.bottom}" text-anchor="end">0</text>` +
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 12}" text-anchor="middle">seconds</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escape(title)}</text>` +
    axis +
    paths.join('') +
    `</svg>\n`
  );
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
