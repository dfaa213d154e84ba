// Whether an image file holds nothing but its picture: what may be served as it was uploaded,
// without re-encoding. Read from the bytes' own structure rather than from what a decoder
// reports, so that comments, unknown segments and data appended after the image (which a
// decoder ignores, and a browser may be tricked by) all count as "more".

/** Segments a bare JPEG may hold: JFIF (APP0), tables, frame headers, restart interval, scans. */
function isCodingSegment(marker: number): boolean {
  return marker === 0xe0 || marker === 0xdb || marker === 0xc4 || marker === 0xdd || marker === 0xda || (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc8 && marker !== 0xcc);
}

/**
 * A JFIF header without an embedded thumbnail: a thumbnail (or a JFXX extension) is a second
 * picture, which may show what the main one was cropped from.
 */
function isPlainJfif(segment: Uint8Array): boolean {
  const id = String.fromCharCode(...segment.subarray(0, 5));
  return id === 'JFIF\0' && segment.length >= 14 && segment[12] === 0 && segment[13] === 0;
}

/**
 * A JPEG of SOI, then only the segments isCodingSegment allows (any number of scans: progressive
 * files interleave tables and scans), and EOI as its last two bytes.
 */
export function isBareJpeg(bytes: Uint8Array): boolean {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return false;
  let i = 2;
  while (i + 1 < bytes.length) {
    if (bytes[i] !== 0xff) return false;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd9) return i + 2 === bytes.length;
    if (!isCodingSegment(marker) || i + 4 > bytes.length) return false;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (length < 2) return false;
    if (marker === 0xe0 && !isPlainJfif(bytes.subarray(i + 4, i + 2 + length))) return false;
    i += 2 + length;
    if (marker !== 0xda) continue;
    // Entropy-coded data: 0xFF is followed by a stuffed 0x00 or a restart marker, until a marker.
    // indexOf hops from one 0xFF to the next natively: validation runs on every search upload,
    // and a byte-by-byte loop took 21 ms of the event loop for a 5 MB photo.
    for (i = bytes.indexOf(0xff, i); i !== -1 && i + 1 < bytes.length; i = bytes.indexOf(0xff, i + 1)) {
      const next = bytes[i + 1]!;
      if (next !== 0x00 && (next < 0xd0 || next > 0xd7)) break;
    }
    if (i === -1) return false;
  }
  return false;
}

/** Simple-format WebP (one VP8 or VP8L chunk: no EXIF, XMP, ICC or animation) whose RIFF size is the file's. */
export function isBareWebp(bytes: Uint8Array): boolean {
  if (bytes.length < 20) return false;
  const ascii = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (ascii(0) !== 'RIFF' || ascii(8) !== 'WEBP') return false;
  const riffSize = bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24);
  const chunkSize = bytes[16]! | (bytes[17]! << 8) | (bytes[18]! << 16) | (bytes[19]! << 24);
  const chunk = ascii(12);
  return (chunk === 'VP8 ' || chunk === 'VP8L') && riffSize + 8 === bytes.length && 20 + chunkSize + (chunkSize % 2) === bytes.length;
}
