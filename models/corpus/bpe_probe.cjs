// Bytes per token of a byte-level BPE trained with the npm `tokenizers` binding's default trainer
// (vocabulary 30,000; the binding exposes no trainer options), measured on the held-out shards.
// A probe for planning token counts, not the project's tokenizer.
//   python3 -m models.corpus.sample --mb 40 --dest /tmp/s.jsonl.xz
//   xz -dc /tmp/s.jsonl.xz | python3 -c 'import sys,json; [sys.stdout.write(json.loads(l)["text"]+"\n") for l in sys.stdin]' > /tmp/s.txt
//   RAYON_NUM_THREADS=1 node models/corpus/bpe_probe.cjs /tmp/s.txt [data/corpus/shards/heldout]
const path = require('path');
const fs = require('fs');
const { execFileSync } = require('child_process');
const { Tokenizer, BPE, byteLevelPreTokenizer } = require(path.join(__dirname, '..', '..', 'node_modules', 'tokenizers'));

async function main() {
  const [trainFile, heldoutDir = path.join(__dirname, '..', '..', 'data', 'corpus', 'shards', 'heldout')] =
    process.argv.slice(2);
  const t0 = Date.now();
  const tok = new Tokenizer(BPE.empty());
  tok.setPreTokenizer(byteLevelPreTokenizer(false, true));
  tok.train([trainFile]);
  const result = { trainSeconds: (Date.now() - t0) / 1000, vocab: tok.getVocabSize(), languages: {} };
  for (const f of fs.readdirSync(heldoutDir).sort()) {
    const lang = f.split('-')[0];
    const text = execFileSync('xz', ['-dc', path.join(heldoutDir, f)], { maxBuffer: 1 << 30 }).toString();
    let bytes = 0;
    let tokens = 0;
    for (const line of text.split('\n')) {
      if (!line || bytes > 3e6) continue;
      const doc = JSON.parse(line);
      bytes += Buffer.byteLength(doc.text);
      tokens += (await tok.encode(doc.text)).getIds().length;
    }
    const prev = result.languages[lang] || { bytes: 0, tokens: 0 };
    result.languages[lang] = { bytes: prev.bytes + bytes, tokens: prev.tokens + tokens };
  }
  for (const v of Object.values(result.languages)) v.bytesPerToken = +(v.bytes / v.tokens).toFixed(2);
  console.log(JSON.stringify(result, null, 1));
}
main();
