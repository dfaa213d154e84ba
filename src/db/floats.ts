// Float32 arrays <-> bytea and pgvector text. Byte order on disk is little-endian.
import { endianness } from 'node:os';
import pgvector from 'pgvector';

const littleEndian = endianness() === 'LE';

/** A fresh little-endian byte copy of the array (never a view that shares memory). */
function float32ToBytes(values: Float32Array): Uint8Array<ArrayBuffer> {
  if (littleEndian) {
    const out = new Uint8Array(values.byteLength);
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return out;
  }
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** Reads bytea back as a Float32Array. Copies first: the driver's buffer may sit at any offset. */
function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new Error(`float32 data has ${bytes.byteLength} bytes, not a multiple of 4`);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  if (littleEndian) return new Float32Array(copy.buffer);
  const view = new DataView(copy.buffer);
  const out = new Float32Array(copy.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * Float32 data selected as `encode(col, 'base64')`. Through the PGlite adapter a bytea column is
 * parsed from hex in JavaScript (about 2 ms per 8 kB); base64 decodes natively.
 */
export function base64ToFloat32(base64: string): Float32Array {
  return bytesToFloat32(Buffer.from(base64, 'base64'));
}

/** pgvector's text form; every float32 prints exactly as a double, so the value round-trips. */
export function vectorToSql(values: Float32Array, dim?: number): string {
  if (dim !== undefined && values.length !== dim) {
    throw new Error(`vector has ${values.length} dimensions, the model expects ${dim}`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`vector component ${i} is not finite (${values[i]})`);
  }
  return pgvector.toSql(Array.from(values)) as string;
}

/** Parses `embedding::text` ('[1,2,3]'). */
export function vectorFromSql(text: string): Float32Array {
  const parsed = pgvector.fromSql(text) as number[] | null;
  if (!Array.isArray(parsed)) throw new Error('not a vector');
  return Float32Array.from(parsed);
}

/**
 * Float32 data as base64 (little-endian), written as `decode($1, 'base64')`: a bytea parameter
 * costs the embedded database ~4 ms per 51 kB (PGlite serialises it in JavaScript), base64 text ~1 ms.
 */
export function float32ToBase64(values: Float32Array): string {
  return Buffer.from(float32ToBytes(values).buffer).toString('base64');
}
