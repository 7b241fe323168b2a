/** bench:engine installs node-llama-cpp's CPU binaries of this platform only, at the pinned version. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NODE_LLAMA_CPP_VERSION, platformPackage } from '../../src/bench/nodeLlamaCpp';

test('platformPackage: the prebuilt CPU package of each platform, pinned; none for others', () => {
  assert.equal(NODE_LLAMA_CPP_VERSION, '3.21.1');
  assert.equal(platformPackage('linux', 'x64'), '@node-llama-cpp/linux-x64@3.21.1');
  assert.equal(platformPackage('darwin', 'arm64'), '@node-llama-cpp/mac-arm64-metal@3.21.1');
  assert.equal(platformPackage('win32', 'x64'), '@node-llama-cpp/win-x64@3.21.1');
  assert.throws(() => platformPackage('freebsd', 'x64'), /no prebuilt binaries for freebsd-x64/);
});
