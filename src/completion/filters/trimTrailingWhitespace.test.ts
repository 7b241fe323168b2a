import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextAt } from '../../../test/helpers/cursor';
import { trimTrailingWhitespace } from './trimTrailingWhitespace';

test('trimTrailingWhitespace trims line ends and trailing blank lines', () => {
  assert.equal(trimTrailingWhitespace('a;  \n  b;\t\n\n\n', contextAt('║'), null), 'a;\n  b;');
});
