import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { formatCount } from '../../../model-spec/index.js';
import { InvalidRequestError, ProblemError } from '../../errors/index.js';
import { offenceError, offenceOf } from '../../plugins/app/json-parser.js';
import type { DatasetUpload } from '../../services/datasets.service.js';

/**
 * Reads a multipart upload: text fields are checked like any other text the
 * API takes; every file part is streamed to a temporary file (never whole in
 * memory) and hashed on the way. `discard()` removes the files.
 */
export async function receiveUpload(request: FastifyRequest, maxBytes: number): Promise<DatasetUpload & { discard(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trainyard-upload-'));
  const discard = () => rm(dir, { recursive: true, force: true });
  const upload: DatasetUpload = { fields: {}, files: {} };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (typeof part.value !== 'string') throw new InvalidRequestError(`form field '${part.fieldname}' must be text`, [{ field: part.fieldname, message: 'must be text' }]);
        const offence = offenceOf(part.value);
        if (offence) throw offenceError(`form field '${part.fieldname}'`, offence);
        upload.fields[part.fieldname] = part.value;
        continue;
      }
      const file = part as MultipartFile;
      if (upload.files[file.fieldname]) throw new InvalidRequestError(`file part '${file.fieldname}' was sent twice`, [{ field: file.fieldname, message: 'sent twice' }]);
      if (!/^[A-Za-z0-9_-]{1,40}$/.test(file.fieldname)) throw new InvalidRequestError(`unexpected file part ${JSON.stringify(file.fieldname.slice(0, 40))}`, []);
      const target = path.join(dir, file.fieldname);
      const hash = createHash('sha256');
      let bytes = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(file.file, count, createWriteStream(target));
      if (file.file.truncated) {
        throw new ProblemError(413, 'payload-too-large', 'Payload Too Large', `file part '${file.fieldname}' exceeds the upload limit of ${formatCount(maxBytes)} bytes`, {
          limit: maxBytes,
        });
      }
      upload.files[file.fieldname] = { path: target, bytes, sha256: hash.digest('hex') };
    }
    return { ...upload, discard };
  } catch (err) {
    await discard();
    throw err;
  }
}
