// Encodes texts with a tokenizer.json through the npm `tokenizers` binding (the extension's tokenizer).
// Usage: node models/scripts/tokenize.mjs tokenizer.json < texts.json > ids.json   (a JSON array of strings)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tk = createRequire(import.meta.url)('tokenizers');
const tokenizer = tk.Tokenizer.fromFile(process.argv[2]);
const texts = JSON.parse(readFileSync(0, 'utf8'));
const ids = [];
for (const text of texts) ids.push((await tokenizer.encode(text, null, { addSpecialTokens: false })).getIds());
process.stdout.write(JSON.stringify(ids));
