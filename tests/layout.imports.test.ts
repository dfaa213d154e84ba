// The house rules on what may import what (ARCHITECTURE.md), read from the import lines of src/:
// the API's faces sit on top, the services and edges below them never reach up into a face or
// the GraphQL libraries, and src/http (which mounts the resolvers) is imported by no face below it.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');
const FACES = new Set(['http', 'resolvers', 'schema', 'cli']);
const GRAPHQL_LIBRARIES = /^(graphql|type-graphql|graphql-upload|graphql-scalars|@apollo\/|@as-integrations\/)/;

interface ImportLine {
  file: string;
  specifier: string;
  /** The src/ folder (or top-level file) the specifier points into; undefined for a package. */
  target?: string;
}

/** `src/a/b.ts` → `a`; `src/errors.ts` → `errors.ts`. */
const topOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;

async function importsOfSrc(): Promise<ImportLine[]> {
  const files = (await readdir(SRC, { recursive: true })).filter((f) => f.endsWith('.ts')).map((f) => path.join(SRC, f));
  const lines: ImportLine[] = [];
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    for (const [, specifier] of source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)) {
      const target = specifier!.startsWith('.') ? path.resolve(path.dirname(file), specifier!) : undefined;
      lines.push({ file: path.relative(SRC, file), specifier: specifier!, target: target && target.startsWith(SRC) ? topOf(target) : undefined });
    }
  }
  return lines;
}

describe('import rules of src/', () => {
  it('reads the import lines at all', async () => {
    const lines = await importsOfSrc();
    expect(lines.some((l) => l.file === path.join('http', 'app.ts') && l.target === 'resolvers')).toBe(true);
  });

  it('below the API, nothing imports a face or a GraphQL library', async () => {
    const below = (await importsOfSrc()).filter((l) => !FACES.has(topOf(path.join(SRC, l.file))) && !['main.ts', 'service.ts'].includes(l.file));
    const offending = below.filter((l) => GRAPHQL_LIBRARIES.test(l.specifier) || (l.target && FACES.has(l.target)));
    expect(offending.map((l) => `${l.file} → ${l.specifier}`)).toEqual([]);
  });

  it('resolvers and schema never import src/http (which mounts them)', async () => {
    const offending = (await importsOfSrc()).filter((l) => ['resolvers', 'schema'].includes(topOf(path.join(SRC, l.file))) && l.target === 'http');
    expect(offending.map((l) => `${l.file} → ${l.specifier}`)).toEqual([]);
  });
});
