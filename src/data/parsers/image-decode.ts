import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

export type ImageKind = 'png' | 'jpeg';

export interface RgbaImage {
  width: number;
  height: number;
  /** 8-bit RGBA, row-major. */
  data: Uint8Array;
}

/** Decoding a 100-megapixel image would take ~400 MB for nothing: nobody trains on that. */
export const MAX_PIXELS = 50_000_000;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** By content, never by extension: `.jpg` files that are really PNGs are common. */
export function sniffImage(bytes: Uint8Array): ImageKind | null {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/**
 * Any PNG (palette, grey, 16-bit, with or without alpha) or baseline /
 * progressive JPEG to 8-bit RGBA. Throws the decoder's own error.
 */
export function decodeImage(bytes: Uint8Array, kind: ImageKind): RgbaImage {
  if (kind === 'png') {
    // IHDR is always the first chunk: check the size before inflating anything.
    if (bytes.length >= 24) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      assertPixels(view.getUint32(16), view.getUint32(20));
    }
    let png: ReturnType<typeof pngjs.PNG.sync.read>;
    try {
      png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (err) {
      throw new Error(plainPngError((err as Error).message));
    }
    return { width: png.width, height: png.height, data: png.data };
  }
  const image = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: MAX_PIXELS / 1e6,
    maxMemoryUsageInMB: 1024,
  });
  return { width: image.width, height: image.height, data: image.data };
}

function assertPixels(width: number, height: number): void {
  if (width * height > MAX_PIXELS) {
    throw new Error(`it is ${width}x${height} pixels; at most ${MAX_PIXELS / 1e6} megapixels are supported`);
  }
}

/** pngjs reports a cut-off file in terms of its stream internals (with a typo, "waitng"); say what the user can act on. */
function plainPngError(message: string): string {
  if (/read requests wait/i.test(message) || /unexpected end/i.test(message)) return 'the file is truncated';
  if (/^crc error|unrecognised content/i.test(message)) return `the file is damaged (${message})`;
  return message;
}
