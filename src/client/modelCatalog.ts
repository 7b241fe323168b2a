/**
 * Finds model folders: the ones bundled with the extension (`<extension>/models/<name>/manifest.json`)
 * and those in a user models folder. Reads only the manifest's display fields; the worker validates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ModelEntry {
  readonly dir: string;
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly source: 'bundled' | 'user' | 'setting';
}

/** Bundled folders that exist for tests only; offered last, and never the default when another exists. */
export const TEST_ONLY_MODELS = new Set(['tiny-fixture']);

function readEntry(dir: string, source: ModelEntry['source']): ModelEntry | null {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    if (m['format'] !== 'ultramem-complete-model') return null;
    const name = typeof m['name'] === 'string' ? m['name'] : path.basename(dir);
    return {
      dir,
      name,
      displayName: typeof m['displayName'] === 'string' ? m['displayName'] : name,
      description: typeof m['description'] === 'string' ? m['description'] : '',
      source,
    };
  } catch {
    return null;
  }
}

export function modelsIn(folder: string, source: ModelEntry['source']): ModelEntry[] {
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .sort()
    .map((n) => readEntry(path.join(folder, n), source))
    .filter((e): e is ModelEntry => e !== null)
    .sort((a, b) => Number(TEST_ONLY_MODELS.has(a.name)) - Number(TEST_ONLY_MODELS.has(b.name)));
}

export function catalog(bundledFolder: string, userFolder: string | undefined): ModelEntry[] {
  return [...modelsIn(bundledFolder, 'bundled'), ...(userFolder ? modelsIn(userFolder, 'user') : [])];
}

/** The bundled default: the first bundled model that is not test-only, else the first one. */
export function defaultModel(bundledFolder: string): ModelEntry | null {
  return modelsIn(bundledFolder, 'bundled')[0] ?? null;
}
