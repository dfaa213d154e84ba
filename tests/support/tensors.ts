/** Largest and mean absolute difference between two float arrays of the same length. */
export function absDiff(a: Float32Array, b: Float32Array): { maxAbs: number; meanAbs: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { maxAbs: max, meanAbs: sum / a.length };
}
