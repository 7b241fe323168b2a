/** The extension's listing in package.json: icon, license, repository, keywords, and a walkthrough that works. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/fixture';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string };
}
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  icon: string;
  license: string;
  repository: { url: string };
  keywords: string[];
  contributes: { commands: { command: string }[]; walkthroughs: { id: string; steps: Step[] }[] };
};

test('the icon is a PNG of at least 128x128 pixels, and license, repository and keywords are set', () => {
  const png = fs.readFileSync(path.join(ROOT, pkg.icon));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.readUInt32BE(16) >= 128 && png.readUInt32BE(20) >= 128, 'width and height from the IHDR chunk');
  assert.equal(pkg.license, 'MIT');
  assert.match(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.ok(fs.readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8').includes(`## ${pkg.version}`), 'the CHANGELOG has the version');
  assert.ok(pkg.repository.url.length > 0 && pkg.keywords.length >= 5);
});

test('the walkthrough covers accept, accept a word, switch model, disable a language and privacy, with working pages and commands', () => {
  const [walkthrough] = pkg.contributes.walkthroughs;
  assert.ok(walkthrough);
  assert.deepEqual(walkthrough.steps.map((s) => s.id), ['accept', 'acceptWord', 'switchModel', 'disableLanguage', 'privacy']);
  const commands = new Set(pkg.contributes.commands.map((c) => c.command));
  for (const step of walkthrough.steps) {
    const page = step.media.markdown;
    assert.ok(page && fs.readFileSync(path.join(ROOT, page), 'utf8').startsWith('# '), `${step.id}: a Markdown page`);
    for (const [, command] of step.description.matchAll(/\]\(command:([\w.-]+)\)/g)) assert.ok(commands.has(command!), `${step.id} links ${command}`);
  }
  const links = walkthrough.steps.flatMap((s) => [...s.description.matchAll(/command:([\w.-]+)/g)].map((m) => m[1]));
  assert.deepEqual(links, ['ultramem-complete.trigger', 'ultramem-complete.switchModel', 'ultramem-complete.toggleLanguage', 'ultramem-complete.showStats']);
});
