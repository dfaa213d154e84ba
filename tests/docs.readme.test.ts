// The README's reference parts must stay true: its settings table names every variable
// src/config.ts reads (and nothing else), and its layout names every folder under src/ (and no
// folder that is gone).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The lines of the README section under `## <title>`, up to the next `## `. */
async function readmeSection(title: string): Promise<string[]> {
  const lines = (await readFile(path.join(ROOT, 'README.md'), 'utf8')).split('\n');
  const start = lines.indexOf(`## ${title}`);
  expect(start, `README.md has no "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

describe('README.md', () => {
  it('the settings table lists exactly the variables src/config.ts reads', async () => {
    const rows = (await readmeSection('Configuration')).filter((line) => /^\|\s*`/.test(line));
    // The first cell names one or more variables, each in backticks: | `PORT`, `HOST` | …
    const documented = rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
    expect(documented.length, 'a variable is listed twice').toBe(new Set(documented).size);
    expect(sorted(documented)).toEqual(sorted(CONFIG_VARIABLES));
  });

  it('the layout names exactly the folders under src/', async () => {
    const layout = (await readmeSection('Layout')).join('\n');
    const documented = [...layout.matchAll(/\bsrc\/([\w/-]+?)\/(?=\s)/g)].map((m) => m[1]!);
    const entries = await readdir(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true });
    const folders = entries
      .filter((e) => e.isDirectory())
      .map((e) => path.relative(path.join(ROOT, 'src'), path.join(e.parentPath, e.name)).split(path.sep).join('/'));
    expect(sorted(documented)).toEqual(sorted(folders));
  });
});
