/** Helpers shared by the command-line tools: the CLI, the bench and the soak test. */
import * as path from 'node:path';

/** The number given after option `arg` on a command line (`--seconds 60`); throws when there is none. */
export function numberOption(arg: string, value: string | undefined): number {
  const v = Number(value);
  if (value === undefined || !Number.isFinite(v)) throw new Error(`${arg} needs a number`);
  return v;
}

/** Guess a VS Code language id from a file name (enough for the comment rule and snippet matching). */
export function languageOf(file: string): string {
  const ext = path.extname(file).toLowerCase();
  const map: Record<string, string> = {
    '.ts': 'typescript', '.tsx': 'typescriptreact', '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'javascriptreact',
    '.py': 'python', '.rs': 'rust', '.go': 'go', '.java': 'java', '.c': 'c', '.h': 'c', '.cpp': 'cpp', '.cc': 'cpp', '.hpp': 'cpp',
    '.cs': 'csharp', '.rb': 'ruby', '.php': 'php', '.sh': 'shellscript', '.json': 'json', '.md': 'markdown', '.yaml': 'yaml', '.yml': 'yaml',
  };
  return map[ext] ?? 'plaintext';
}

/** Splits a file's text at a 1-based line:column into LF-normalised prefix and suffix. */
export function splitAt(text: string, line: number, column: number): { prefix: string; suffix: string } {
  const lf = text.replace(/\r\n/g, '\n');
  const lines = lf.split('\n');
  if (line < 1 || line > lines.length) throw new Error(`line ${line} is outside 1..${lines.length}`);
  const target = lines[line - 1]!;
  if (column < 1 || column > target.length + 1) throw new Error(`column ${column} is outside 1..${target.length + 1}`);
  const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
  return { prefix: lf.slice(0, offset), suffix: lf.slice(offset) };
}
