/** Typed access to the extension's settings (package.json `contributes.configuration`). */
import * as vscode from 'vscode';
import { SHIPPED_DEFAULTS } from '../completion/defaults';

export const SECTION = 'ultramem-complete';

export interface Settings {
  readonly enable: boolean;
  readonly disabledLanguages: readonly string[];
  readonly modelPath: string;
  readonly modelsFolder: string;
  readonly threads: number;
  readonly maxPromptTokens: number;
  readonly maxLines: number;
  readonly maxTokens: number;
  readonly neighbourSnippets: boolean;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  // Machine-scoped paths: VS Code ignores workspace values for them; read the global value only, so a
  // workspace can never point the extension at a model inside the repository it opens.
  const machine = (key: string): string => {
    const v = c.inspect<string>(key);
    return (v?.globalValue ?? v?.defaultValue ?? '').trim();
  };
  return {
    enable: c.get('enable', true),
    disabledLanguages: c.get<string[]>('disabledLanguages', []),
    modelPath: machine('modelPath'),
    modelsFolder: machine('modelsFolder'),
    threads: c.get('threads', SHIPPED_DEFAULTS.threads),
    maxPromptTokens: c.get('maxPromptTokens', SHIPPED_DEFAULTS.maxPromptTokens),
    maxLines: c.get('maxLines', SHIPPED_DEFAULTS.maxLines),
    maxTokens: c.get('maxTokens', SHIPPED_DEFAULTS.maxTokens),
    neighbourSnippets: c.get('neighbourSnippets', SHIPPED_DEFAULTS.neighbourSnippets),
  };
}
