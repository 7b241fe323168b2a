import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { discardBlank } from './discardBlank';

test('discardBlank discards whitespace-only text and keeps the rest', () => {
  assert.equal(discardBlank(' \n\t ', contextAt('║'), null), '');
  assert.equal(discardBlank(' x', contextAt('║'), null), ' x');
});
