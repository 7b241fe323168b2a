/**
 * Alt+] / Alt+[ for the alternatives (src/completion/alternatives.ts). VS Code's Show Next / Previous Inline
 * Suggestion cycles through the items of the last request; after an explicit one (Trigger Completion, or the
 * provider's own trigger that grows a streamed suggestion in place) it does not ask again, and that answer came
 * before the alternatives were decoded. So these keys first wait for the alternatives being decoded and, when the shown
 * suggestion came alone, have VS Code ask again (hide, then trigger: the answer now carries them), then run VS Code's
 * own command. Asking again at the user's request, not when the alternatives arrive, keeps the ghost text from
 * blinking for those who never cycle.
 */
import * as vscode from 'vscode';
import type { CompletionPipeline } from '../completion/pipeline';
import type { InlineProvider } from './provider';

export const SHOW_NEXT_COMMAND = 'ultramem-complete.showNextSuggestion';
export const SHOW_PREVIOUS_COMMAND = 'ultramem-complete.showPreviousSuggestion';

async function cycle(provider: InlineProvider, pipeline: CompletionPipeline, vscodeCommand: string): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const alone = (): boolean => !!editor && provider.shownAlone(editor.document, editor.selection.active);
  if (alone()) {
    await pipeline.alternativesIdle();
    if (alone()) {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }
  }
  await vscode.commands.executeCommand(vscodeCommand);
}

export function registerAlternativeKeys(provider: InlineProvider, pipeline: CompletionPipeline): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(SHOW_NEXT_COMMAND, () => cycle(provider, pipeline, 'editor.action.inlineSuggest.showNext')),
    vscode.commands.registerCommand(SHOW_PREVIOUS_COMMAND, () => cycle(provider, pipeline, 'editor.action.inlineSuggest.showPrevious')),
  ];
}
