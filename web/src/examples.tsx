// "Try an example": a few CC0 shopper photos (the clothing set's validation split, none of them in
// the demo catalog; scripts/prepare-demo-photos.ts writes them), each searched with in one click.
import { useState } from 'react';

const NAMES: Record<string, string> = { 't-shirt': 'T-shirt', longsleeve: 'long-sleeve top', pants: 'trousers' };

const EXAMPLES = Object.entries(import.meta.glob<string>('./examples/*.webp', { eager: true, query: '?url', import: 'default' }))
  .map(([file, url]) => {
    const label = file.replace(/^.*\/|\.webp$/g, '');
    return { label, name: NAMES[label] ?? label, url };
  })
  .sort((a, b) => a.label.localeCompare(b.label));

export function Examples({ onFile, onError }: { onFile: (file: File) => void; onError: (message: string) => void }) {
  const [loading, setLoading] = useState<string | null>(null);
  if (EXAMPLES.length === 0) return null;

  // The photo goes up as a file, exactly as if the user had picked it.
  const pick = async ({ label, url }: (typeof EXAMPLES)[number]) => {
    setLoading(label);
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      onFile(new File([await response.blob()], `example-${label}.webp`, { type: 'image/webp' }));
    } catch (err) {
      onError(`The example photo could not be loaded (${(err as Error).message}).`);
    } finally {
      setLoading(null);
    }
  };

  return (
    <div className="examples" role="group" aria-label="Try an example">
      <p className="examples-title">Or try an example</p>
      <ul>
        {EXAMPLES.map((example) => (
          <li key={example.label}>
            <button
              type="button"
              className="example"
              aria-label={`Search with an example photo of ${example.name}`}
              aria-busy={loading === example.label}
              disabled={loading !== null}
              onClick={() => void pick(example)}
            >
              <img src={example.url} alt="" loading="lazy" />
            </button>
          </li>
        ))}
      </ul>
      <p className="hint">CC0 photos from the clothing dataset by Alexey Grigorev and contributors.</p>
    </div>
  );
}
