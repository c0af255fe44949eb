import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ArtifactFile, ArtifactStore } from './artifact-store.js';
import { assertSafe, type ByteRange } from './artifact-keys.js';

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The default store: a directory (ARTIFACT_DIR), shared by every process that names it. */
export class DiskArtifactStore implements ArtifactStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  describe(): string {
    return `disk:${this.root}`;
  }

  async put(key: string, files: Record<string, Uint8Array | string>): Promise<number> {
    assertSafe(key, ...Object.keys(files));
    const final = path.join(this.root, key);
    const staging = path.join(this.root, '.staging', randomUUID());
    await mkdir(staging, { recursive: true });
    let bytes = 0;
    try {
      for (const [name, content] of Object.entries(files)) {
        await writeFile(path.join(staging, name), content);
        bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
      }
      await mkdir(path.dirname(final), { recursive: true });
      // A retried job may have left a complete copy: replace it whole.
      await rm(final, { recursive: true, force: true });
      await rename(staging, final);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    return bytes;
  }

  async get(key: string, file: string): Promise<Buffer | null> {
    assertSafe(key, file);
    try {
      return await readFile(path.join(this.root, key, file));
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async getRange(key: string, file: string, start: number, length: number): Promise<Buffer | null> {
    assertSafe(key, file);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path.join(this.root, key, file), 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async open(key: string, file: string): Promise<ArtifactFile | null> {
    assertSafe(key, file);
    const where = path.join(this.root, key, file);
    let size: number;
    try {
      size = (await stat(where)).size;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    return {
      size,
      read: async (range?: ByteRange): Promise<Readable> => {
        // Opened here, so that a failure is an error before any byte is sent, not one in the middle of a response.
        const handle = await open(where, 'r');
        return range ? handle.createReadStream({ start: range.start, end: range.end }) : handle.createReadStream();
      },
    };
  }

  async remove(key: string): Promise<void> {
    assertSafe(key);
    await rm(path.join(this.root, key), { recursive: true, force: true });
  }

  /** The directory exists (it is created if need be) and this process may write to it. */
  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.W_OK);
  }
}
