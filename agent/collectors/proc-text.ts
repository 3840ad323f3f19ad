/**
 * The whitespace-separated words of one line of a /proc file. Faster than split(/\s+/) on the
 * columns of /proc/diskstats and /proc/net/dev, which are padded with runs of spaces.
 */
export function words(line: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    const blank = c === 32 || c === 9;
    if (blank) {
      if (start >= 0) {
        out.push(line.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(line.slice(start));
  return out;
}
