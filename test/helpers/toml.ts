/**
 * The small TOML subset our golden cases use: `key = "basic"`, `key = 'literal'`, `key = '''multi-line
 * literal'''` and `key = """multi-line basic"""` (first newline after the opening quotes dropped), # comments.
 */
export function parseToml(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lineEnd = text.indexOf('\n', i) < 0 ? n : text.indexOf('\n', i);
    const line = text.slice(i, lineEnd);
    const m = /^\s*([A-Za-z0-9_]+)\s*=\s*/.exec(line);
    if (!m) {
      if (line.trim() !== '' && !line.trim().startsWith('#')) throw new Error(`toml: cannot parse line ${JSON.stringify(line)}`);
      i = lineEnd + 1;
      continue;
    }
    const key = m[1]!;
    let j = i + m[0].length;
    const triple = text.startsWith("'''", j) ? "'''" : text.startsWith('"""', j) ? '"""' : '';
    if (triple) {
      j += 3;
      if (text[j] === '\n') j++;
      const end = text.indexOf(triple, j);
      if (end < 0) throw new Error(`toml: unterminated ${triple} for ${key}`);
      const raw = text.slice(j, end);
      out[key] = triple === '"""' ? JSON.parse(`"${raw.replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`) : raw;
      i = text.indexOf('\n', end + 3) < 0 ? n : text.indexOf('\n', end + 3) + 1;
      continue;
    }
    const rest = line.slice(m[0].length).replace(/\s+#.*$/, '').trim();
    if (rest.startsWith('"')) out[key] = JSON.parse(rest);
    else if (rest.startsWith("'")) out[key] = rest.slice(1, rest.lastIndexOf("'"));
    else throw new Error(`toml: unsupported value for ${key}: ${rest}`);
    i = lineEnd + 1;
  }
  return out;
}
