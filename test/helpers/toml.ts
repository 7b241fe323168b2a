import { parse } from 'smol-toml';

/**
 * A golden case's TOML (test/golden/<filter>/<case>.toml), read with smol-toml. The cases hold only string
 * values at the top level (numbers and booleans are written as strings, e.g. `insertSpaces = "false"`), so
 * anything else is refused here rather than surfacing as a confusing filter failure.
 */
export function parseToml(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parse(text))) {
    if (typeof value !== 'string') throw new Error(`toml: ${key} must be a string, got ${JSON.stringify(value)}`);
    out[key] = value;
  }
  return out;
}
