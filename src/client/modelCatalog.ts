/**
 * Finds model folders: the ones bundled with the extension (`<extension>/models/<name>/manifest.json`)
 * and those in a user models folder. Reads only the manifest's display fields, asynchronously and at most
 * MAX_MANIFEST_BYTES of it (the extension host must not stall on a huge file); the worker validates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_MANIFEST_BYTES, readBoundedText } from '../worker/manifest';

export interface ModelEntry {
  readonly dir: string;
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly source: 'bundled' | 'user' | 'setting';
}

/**
 * Folders in the bundled models folder that exist for tests only (in the repository, never in a VSIX): not listed as
 * bundled, so neither offered nor the default. Tests reach them through the modelsFolder or modelPath settings.
 */
export const TEST_ONLY_MODELS = new Set(['tiny-fixture']);

async function readEntry(dir: string, source: ModelEntry['source']): Promise<ModelEntry | null> {
  try {
    const m = JSON.parse(await readBoundedText(path.join(dir, 'manifest.json'), MAX_MANIFEST_BYTES)) as Record<string, unknown>;
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

export async function modelsIn(folder: string, source: ModelEntry['source']): Promise<ModelEntry[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(folder);
  } catch {
    return [];
  }
  return (await Promise.all(names.sort().map((n) => readEntry(path.join(folder, n), source))))
    .filter((e): e is ModelEntry => e !== null && !(source === 'bundled' && TEST_ONLY_MODELS.has(e.name)));
}

export async function catalog(bundledFolder: string, userFolder: string | undefined): Promise<ModelEntry[]> {
  return [...(await modelsIn(bundledFolder, 'bundled')), ...(userFolder ? await modelsIn(userFolder, 'user') : [])];
}

/** The bundled default: the first bundled model. */
export async function defaultModel(bundledFolder: string): Promise<ModelEntry | null> {
  return (await modelsIn(bundledFolder, 'bundled'))[0] ?? null;
}
