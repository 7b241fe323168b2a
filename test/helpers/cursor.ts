/** Builds pipeline inputs from a document string with the cursor marked by ║. */
import { buildContext } from '../../src/completion/context';
import type { CompletionRequest, CursorContext } from '../../src/completion/types';

export const CURSOR = '║';

export function requestAt(doc: string, over: Partial<CompletionRequest> = {}): CompletionRequest {
  const at = doc.indexOf(CURSOR);
  if (at < 0) throw new Error(`no ${CURSOR} in test document`);
  return {
    prefix: doc.slice(0, at),
    suffix: doc.slice(at + CURSOR.length),
    languageId: 'typescript',
    path: 'test.ts',
    tabSize: 4,
    insertSpaces: true,
    trigger: 'automatic',
    ...over,
  };
}

export function contextAt(doc: string, over: Partial<CompletionRequest> = {}): CursorContext {
  return buildContext(requestAt(doc, over), { prefixTokens: 2000, suffixTokens: 500 });
}
