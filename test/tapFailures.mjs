// Reads node's TAP reports for npm test's summary (test/runAll.mjs).

/**
 * The failed test cases of a TAP report and the first lines of their errors (suites whose only error is their
 * subtests' are left out), so that the summary at the end of a long log says what failed, not only how many.
 */
export function tapFailures(tap) {
  const out = [];
  const lines = tap.split('\n');
  lines.forEach((line, i) => {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(line);
    if (!m) return;
    const indent = `${m[1]}  `;
    const block = [];
    for (let j = i + 1; j < lines.length && lines[j].startsWith(indent) && lines[j].trim() !== '...'; j++) block.push(lines[j].slice(indent.length));
    const at = block.findIndex((l) => l.startsWith('error:'));
    if (at < 0 || block.some((l) => l === "failureType: 'subtestsFailed'")) return;
    let error = block[at].slice('error:'.length).trim();
    if (error === '|-' || error === '>-') {
      const more = [];
      for (let j = at + 1; j < block.length && block[j].startsWith('  '); j++) more.push(block[j].trim());
      error = more.filter(Boolean).join(' ');
    }
    out.push({ test: m[2], error: error.replace(/^(['`])(.*)\1$/s, '$2').slice(0, 600) }); // node's TAP reporter quotes a one-line error in ' or `
  });
  return out;
}
