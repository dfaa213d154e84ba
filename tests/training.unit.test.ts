// The Python side's own unit tests (training/test_training.py: preprocessing, the manifest
// contract, seeded determinism; a few tiny CPU runs, seconds) run in `npm test`, with the
// interpreter `npm run train` uses.
import { describe, expect, it } from 'vitest';
import { runPython, torchAvailable } from './support/python.js';
import { needsSystem } from './support/system.js';

const hasTorch = needsSystem('python3-torch', torchAvailable(), 'apt-get install python3-torch python3-pil python3-numpy');

describe.runIf(hasTorch)('training/test_training.py', () => {
  it('passes under python -m unittest', { timeout: 180_000 }, async () => {
    const { code, output } = await runPython(['-m', 'unittest', 'training.test_training'], 170_000);
    expect(code, output.slice(-4000)).toBe(0);
    // Python 3.11 exits 0 when it finds no tests at all.
    expect(output).toMatch(/^Ran [1-9]\d* tests? in /m);
  });
});
