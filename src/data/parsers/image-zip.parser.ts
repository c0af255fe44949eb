import { DatasetFormatError } from './dataset-format.error.js';
import { assembleDataset, assertExampleLimit, assertValueLimit, classIndexArray, compareClassNames, resolveLimits, type ParsedDataset, type ParseLimits } from './dataset.js';
import { fmt } from './format.js';
import { decodeImage, sniffImage } from './image-decode.js';
import { resizeRgbaInto } from './resize.js';
import { ZipReader, type ZipEntry } from './zip-reader.js';

export interface ImageZipInput extends ParseLimits {
  /** Path of a .zip with one folder per class (optionally inside one wrapper folder). */
  file: string;
  /** Output width in pixels, 1 to 1,024; every image is resized to it. */
  width: number;
  /** Output height in pixels, 1 to 1,024. */
  height: number;
  /** 1: grayscale (luma), 3: RGB. Alpha is dropped either way. */
  channels: 1 | 3;
  /** Largest single file accepted, in bytes. Default 32 MiB. */
  maxFileBytes?: number;
}

export const MAX_IMAGE_SIDE = 1024;
const DEFAULT_MAX_FILE_BYTES = 32 << 20;
const FIELD = 'file';

interface ImageFile {
  entry: ZipEntry;
  className: string;
}

/**
 * Reads an archive laid out as `<class>/<image>` (or `<wrapper>/<class>/<image>`)
 * into uint8 images of `height x width x channels`. Classes are the folder
 * names in a fixed order (see `compareClassNames`), and examples follow class
 * then path order, so the same archive always gives the same dataset however
 * the zip tool ordered its entries.
 */
export async function parseImageZip(input: ImageZipInput): Promise<ParsedDataset> {
  assertSide('width', input.width);
  assertSide('height', input.height);
  if (input.channels !== 1 && input.channels !== 3) {
    throw new DatasetFormatError('channels', `channels must be 1 (grayscale) or 3 (RGB), got ${String(input.channels)}`);
  }
  const limits = resolveLimits(input);
  const maxFileBytes = input.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const zip = await ZipReader.open(input.file, FIELD);
  try {
    const { classNames, images } = layout(zip.entries);
    if (classNames.length > limits.maxClasses) {
      throw new DatasetFormatError(FIELD, `the archive has ${fmt(classNames.length)} class folders; at most ${fmt(limits.maxClasses)} are allowed`);
    }
    const inputShape = [input.height, input.width, input.channels];
    assertExampleLimit(FIELD, 'the archive', images.length, limits);
    assertValueLimit(FIELD, images.length, inputShape, limits);

    const classIndex = new Map(classNames.map((name, i) => [name, i]));
    const perExample = input.height * input.width * input.channels;
    const x = new Uint8Array(images.length * perExample);
    const y = classIndexArray(classNames.length, images.length);
    for (let i = 0; i < images.length; i++) {
      const { entry, className } = images[i];
      const bytes = await zip.read(entry, maxFileBytes);
      const kind = sniffImage(bytes);
      if (kind === null) throw new DatasetFormatError(FIELD, `${entry.name} is not a PNG or JPEG image`);
      let image: ReturnType<typeof decodeImage>;
      try {
        image = decodeImage(bytes, kind);
      } catch (err) {
        throw new DatasetFormatError(FIELD, `${entry.name} cannot be decoded: ${(err as Error).message}`);
      }
      resizeRgbaInto(image, input.width, input.height, input.channels, x, i * perExample);
      y[i] = classIndex.get(className)!;
    }
    return assembleDataset({ dtype: 'uint8', x }, { y, numClasses: classNames.length, classNames }, inputShape);
  } finally {
    await zip.close();
  }
}

function assertSide(field: 'width' | 'height', value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > MAX_IMAGE_SIDE) {
    throw new DatasetFormatError(field, `${field} must be a whole number from 1 to ${fmt(MAX_IMAGE_SIDE)}, got ${String(value)}`);
  }
}

/** OS litter that never belongs to a dataset: macOS resource forks, dotfiles, Windows thumbnail caches. */
function isLitter(segments: string[]): boolean {
  return segments[0] === '__MACOSX' || segments.some((s) => s.startsWith('.')) || /^(thumbs\.db|desktop\.ini)$/i.test(segments[segments.length - 1]);
}

/**
 * An entry named by an absolute path or one that climbs out with `..` is the
 * mark of a crafted archive (zip slip): it is refused, naming the entry,
 * rather than read as a class or silently skipped.
 */
function assertRelative(name: string): void {
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    throw new DatasetFormatError(FIELD, `the archive entry ${shown} has an absolute path; entries must be paths inside the archive, like "7/img1.png"`);
  }
  if (name.split('/').includes('..')) {
    throw new DatasetFormatError(FIELD, `the archive entry ${shown} climbs out of the archive with '..'; entries must be paths inside the archive, like "7/img1.png"`);
  }
}

/**
 * Classes and their images from the entry names alone. A folder counts as a
 * class even with nothing but litter in it, so that an empty class is
 * reported rather than silently dropped.
 */
function layout(entries: ZipEntry[]): { classNames: string[]; images: ImageFile[] } {
  const files: { entry: ZipEntry; path: string[] }[] = [];
  const folders: string[][] = [];
  for (const entry of entries) {
    assertRelative(entry.name);
    const segments = entry.name.split('/').filter((s) => s !== '');
    if (segments.length === 0 || segments[0] === '__MACOSX') continue;
    const visibleDepth = segments.findIndex((s) => s.startsWith('.'));
    const folderDepth = entry.isDirectory ? segments.length : segments.length - 1;
    const depth = visibleDepth < 0 ? folderDepth : Math.min(folderDepth, visibleDepth);
    if (depth > 0) folders.push(segments.slice(0, depth));
    if (!entry.isDirectory && !isLitter(segments)) files.push({ entry, path: segments });
  }

  // One wrapper folder (what zipping a folder gives) is skipped; it must hold everything.
  const tops = new Set([...folders.map((f) => f[0]), ...files.map((f) => f.path[0])]);
  if (tops.size === 1 && files.length > 0 && files.every((f) => f.path.length >= 3)) {
    files.forEach((f) => f.path.shift());
    folders.forEach((f) => f.shift());
  }

  const classSet = new Set(folders.filter((f) => f.length > 0).map((f) => f[0]));
  if (classSet.size === 0) {
    throw new DatasetFormatError(FIELD, 'the archive has no class folders; put the images of each class in a folder named after the class');
  }
  const loose = files.find((f) => f.path.length < 2);
  if (loose) {
    throw new DatasetFormatError(FIELD, `${loose.entry.name} is not in a class folder; put the images of each class in a folder named after the class`);
  }
  const classNames = [...classSet].sort(compareClassNames);
  const images = files
    .map((f) => ({ entry: f.entry, className: f.path[0], key: f.path.join('/') }))
    .sort((a, b) => compareClassNames(a.className, b.className) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const counts = new Map<string, number>();
  for (const image of images) counts.set(image.className, (counts.get(image.className) ?? 0) + 1);
  const empty = classNames.find((name) => !counts.has(name));
  if (empty !== undefined) throw new DatasetFormatError(FIELD, `class '${empty}' has no images`);
  if (classNames.length < 2) {
    throw new DatasetFormatError(FIELD, `the archive has 1 class ('${classNames[0]}'); at least 2 are needed`);
  }
  return { classNames, images: images.map(({ entry, className }) => ({ entry, className })) };
}
