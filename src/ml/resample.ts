// PIL's antialiased BILINEAR resize (Pillow's libImaging/Resample.c, 8 bits per channel),
// re-implemented step for step so that the TypeScript preprocessing matches training exactly:
// separable triangle filter stretched by the scale on downscale, horizontal pass first, each
// pass in 22-bit fixed point rounded to uint8.

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coefficients {
  /** Taps per output pixel (ksize). */
  ksize: number;
  /** Per output pixel: first input index. */
  min: Int32Array;
  /** Per output pixel: number of input pixels used. */
  count: Int32Array;
  /** Fixed-point weights, ksize per output pixel. */
  weights: Int32Array;
}

const bilinear = (x: number) => {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
};

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter (support 1). */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const min = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let ww = 0;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const w = bilinear((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x]! / ww : k[x]!;
      // (int)(±0.5 + v * 2^22): truncation toward zero.
      weights[xx * ksize + x] = Math.trunc(v < 0 ? -0.5 + v * ONE : 0.5 + v * ONE);
    }
    min[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, min, count, weights };
}

// Sums stay below 2^31 (255 × 2^22 + 2^21), so int32 arithmetic is exact, as in C.
const clip8 = (ss: number) => {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

function horizontal3(src: Uint8Array, width: number, height: number, outWidth: number): Uint8Array {
  const { ksize, min, count, weights } = coefficients(width, outWidth);
  const out = new Uint8Array(outWidth * height * 3);
  for (let y = 0; y < height; y++) {
    const rowIn = y * width * 3;
    let o = y * outWidth * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let p = rowIn + min[xx]! * 3;
      const kb = xx * ksize;
      const n = count[xx]!;
      if (n === 3) {
        // A downscale by less than 2 (a photo a little larger than the model's input): 3 taps.
        const w0 = weights[kb]!;
        const w1 = weights[kb + 1]!;
        const w2 = weights[kb + 2]!;
        s0 = (s0 + src[p]! * w0 + src[p + 3]! * w1 + src[p + 6]! * w2) | 0;
        s1 = (s1 + src[p + 1]! * w0 + src[p + 4]! * w1 + src[p + 7]! * w2) | 0;
        s2 = (s2 + src[p + 2]! * w0 + src[p + 5]! * w1 + src[p + 8]! * w2) | 0;
      } else {
        for (let k = kb; k < kb + n; k++, p += 3) {
          const wgt = weights[k]!;
          s0 = (s0 + src[p]! * wgt) | 0;
          s1 = (s1 + src[p + 1]! * wgt) | 0;
          s2 = (s2 + src[p + 2]! * wgt) | 0;
        }
      }
      out[o++] = clip8(s0);
      out[o++] = clip8(s1);
      out[o++] = clip8(s2);
    }
  }
  return out;
}

function horizontal(src: Uint8Array, width: number, height: number, channels: number, outWidth: number): Uint8Array {
  const { ksize, min, count, weights } = coefficients(width, outWidth);
  const out = new Uint8Array(outWidth * height * channels);
  const acc = new Int32Array(channels);
  for (let y = 0; y < height; y++) {
    const rowIn = y * width * channels;
    const rowOut = y * outWidth * channels;
    for (let xx = 0; xx < outWidth; xx++) {
      acc.fill(HALF);
      const xmin = min[xx]!;
      const n = count[xx]!;
      const kb = xx * ksize;
      for (let x = 0; x < n; x++) {
        const wgt = weights[kb + x]!;
        const p = rowIn + (xmin + x) * channels;
        for (let c = 0; c < channels; c++) acc[c] = (acc[c]! + src[p + c]! * wgt) | 0;
      }
      for (let c = 0; c < channels; c++) out[rowOut + xx * channels + c] = clip8(acc[c]!);
    }
  }
  return out;
}

/**
 * Resizes packed 8-bit pixels (`channels` interleaved) from width × height to outWidth × outHeight
 * exactly as PIL's `Image.resize(size, Image.BILINEAR)`.
 */
export function resizeBilinearPil(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  if (src.length !== width * height * channels) throw new RangeError('resizeBilinearPil: buffer size does not match');
  let cur = src;
  let w = width;
  if (outWidth !== width) {
    cur = channels === 3 ? horizontal3(src, width, height, outWidth) : horizontal(src, width, height, channels, outWidth);
    w = outWidth;
  }
  if (outHeight !== height) {
    const { ksize, min, count, weights } = coefficients(height, outHeight);
    const out = new Uint8Array(w * outHeight * channels);
    const stride = w * channels;
    const acc = new Int32Array(stride);
    for (let yy = 0; yy < outHeight; yy++) {
      const ymin = min[yy]!;
      const n = count[yy]!;
      const kb = yy * ksize;
      const rowOut = yy * stride;
      if (n <= 3) {
        // Up to 3 taps (upscales, and downscales by less than 2): one pass over the row, no accumulator.
        const r0 = ymin * stride;
        const r1 = n > 1 ? r0 + stride : r0;
        const r2 = n > 2 ? r1 + stride : r0;
        const w0 = weights[kb]!;
        const w1 = n > 1 ? weights[kb + 1]! : 0;
        const w2 = n > 2 ? weights[kb + 2]! : 0;
        for (let i = 0; i < stride; i++) out[rowOut + i] = clip8((HALF + cur[r0 + i]! * w0 + cur[r1 + i]! * w1 + cur[r2 + i]! * w2) | 0);
        continue;
      }
      acc.fill(HALF);
      for (let y = 0; y < n; y++) {
        const wgt = weights[kb + y]!;
        const row = (ymin + y) * stride;
        for (let i = 0; i < stride; i++) acc[i] = (acc[i]! + cur[row + i]! * wgt) | 0;
      }
      for (let i = 0; i < stride; i++) out[rowOut + i] = clip8(acc[i]!);
    }
    cur = out;
  }
  return cur;
}
