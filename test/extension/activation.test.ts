/** activate()/deactivate() with the fake vscode API and the real worker: wiring, model errors, commands. */
import { commandHandlers, config, extensionContext, fake, FakeDocument, messages, providers, statusItems, token } from '../helpers/fakeVscode';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type * as vscode from 'vscode';
import { defaultModel } from '../../src/client/modelCatalog';
import { activate, deactivate } from '../../src/extension/extension';
import { MAX_THREADS } from '../../src/worker/session';
import type { InlineProvider } from '../../src/extension/provider';
import { requireFixture, ROOT } from '../helpers/fixture';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: { commands: { command: string }[]; configuration: { properties: Record<string, { scope?: string; maximum?: number }> } };
  activationEvents: string[];
};

/** The shipped model's load hashes its 57 MB graph and probes decode threads: seconds on a loaded machine. */
const LOAD_WAIT_MS = 60_000;

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('extension activation', () => {
  const ctx = extensionContext(ROOT);
  let bundledDefault = 'none';
  const status = (): string => statusItems[0]?.text ?? '';

  before(async () => {
    requireFixture();
    bundledDefault = (await defaultModel(path.join(ROOT, 'models')))?.name ?? 'none';
    await activate(ctx as unknown as vscode.ExtensionContext);
    await until(() => status().includes(bundledDefault), LOAD_WAIT_MS);
  });
  after(async () => {
    await deactivate();
    for (const d of ctx.subscriptions) d.dispose();
  });

  test('the manifest activates on startup and file-path settings are machine-scoped', () => {
    assert.deepEqual(pkg.activationEvents, ['onStartupFinished']);
    const props = pkg.contributes.configuration.properties;
    for (const key of ['ultramem-complete.modelPath', 'ultramem-complete.modelsFolder']) assert.equal(props[key]?.scope, 'machine', key);
    assert.equal(props['ultramem-complete.threads']?.maximum, MAX_THREADS, 'the setting offers no more threads than the worker uses');
  });

  test('every contributed command is registered, and the provider too', () => {
    for (const c of pkg.contributes.commands) assert.ok(commandHandlers.has(c.command), c.command);
    assert.equal(providers.length, 1);
  });

  test('the bundled model loads and the registered provider completes with it', async () => {
    const provider = providers[0] as InlineProvider;
    let got = 0;
    for (const sample of ['let count = ║\n', 'x = ║\n', 'function add(a, b) {\n  return a + ║\n}\n']) {
      const { doc, pos } = FakeDocument.withCursor(sample);
      const items = await provider.provideInlineCompletionItems(doc as never, pos as never, { triggerKind: 0 } as never, token() as never);
      if (items?.[0]) got++;
    }
    assert.ok(got > 0);
  });

  test('a broken model path gives one clear error with a Switch Model action, once, and the model that served serves on', async () => {
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-broken-'));
    try {
      messages.length = 0;
      await fake.workspace.getConfiguration('ultramem-complete').update('modelPath', broken);
      await until(() => messages.length > 0);
      assert.equal(messages.length, 1);
      assert.match(messages[0]!.text, /MANIFEST_MISSING/);
      assert.ok(messages[0]!.actions.includes('Switch Model'));
      assert.ok(status().includes(bundledDefault), status());
      // The same failure again: no second popup.
      await fake.workspace.getConfiguration('ultramem-complete').update('threads', 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(messages.length, 1);
    } finally {
      await fake.workspace.getConfiguration('ultramem-complete').update('modelPath', '');
      fs.rmSync(broken, { recursive: true, force: true });
    }
    await until(() => status().includes(bundledDefault), LOAD_WAIT_MS);
  });

  test('Switch Model offers bundled and user models, loads the pick in place and remembers it', async () => {
    const userFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-user-models-'));
    const copy = path.join(userFolder, 'fixture-copy');
    const original = fake.window.showQuickPick;
    try {
      fs.cpSync(path.join(ROOT, 'models', 'tiny-fixture'), copy, { recursive: true });
      const m = JSON.parse(fs.readFileSync(path.join(copy, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      m['name'] = 'fixture-copy';
      fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(m));
      config['ultramem-complete.modelsFolder'] = userFolder;
      let offered: { description: string; dir: string }[] = [];
      (fake.window as { showQuickPick: unknown }).showQuickPick = async (items: { description: string; dir: string }[]) => {
        offered = items;
        return items.find((i) => i.dir === copy);
      };
      await commandHandlers.get('ultramem-complete.switchModel')!();
      assert.ok(offered.some((i) => i.description.includes('bundled')) && offered.some((i) => i.description.includes('user')));
      // the test model in the bundled folder (the repository's models/, as in a development host) is not offered
      assert.ok(fs.existsSync(path.join(ROOT, 'models', 'tiny-fixture')));
      assert.ok(!offered.some((i) => i.description.startsWith('tiny-fixture')), JSON.stringify(offered.map((i) => i.description)));
      await until(() => status().includes('fixture-copy'));
      assert.equal(ctx.globalState.get('ultramem-complete.modelDir'), copy);
    } finally {
      (fake.window as { showQuickPick: unknown }).showQuickPick = original;
      delete config['ultramem-complete.modelsFolder'];
    }
    fs.rmSync(userFolder, { recursive: true, force: true });
  });

  test('Switch Model with a folder argument it does not offer loads nothing and remembers nothing', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-elsewhere-'));
    try {
      fs.cpSync(path.join(ROOT, 'models', 'tiny-fixture'), elsewhere, { recursive: true });
      const remembered = ctx.globalState.get('ultramem-complete.modelDir');
      const shown = status();
      await commandHandlers.get('ultramem-complete.switchModel')!(elsewhere);
      assert.equal(ctx.globalState.get('ultramem-complete.modelDir'), remembered);
      assert.equal(status(), shown);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test('disabling for the current language updates the setting', async () => {
    const { doc } = FakeDocument.withCursor('x = ║', 'python');
    fake.window.activeTextEditor = { document: doc, options: {} };
    try {
      await commandHandlers.get('ultramem-complete.toggleLanguage')!();
      assert.ok((config['ultramem-complete.disabledLanguages'] as string[]).includes('python'));
      await commandHandlers.get('ultramem-complete.toggleLanguage')!();
      assert.ok(!(config['ultramem-complete.disabledLanguages'] as string[]).includes('python'));
    } finally {
      fake.window.activeTextEditor = undefined;
    }
  });
});
