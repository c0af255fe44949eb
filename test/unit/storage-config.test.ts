import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { artifactStoreFor, artifactStoreSettings } from '../../src/storage/artifact-store.js';

const S3 = { STORAGE_URL: 's3://trainyard-artifacts/prod/eu', S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: 'true' };

describe('artifact store settings', () => {
  it('default to the disk store in ARTIFACT_DIR', () => {
    expect(artifactStoreSettings(loadConfig({}))).toEqual({ kind: 'disk', dir: './var/artifacts' });
    expect(artifactStoreSettings(loadConfig({ ARTIFACT_DIR: '/data/a' }))).toEqual({ kind: 'disk', dir: '/data/a' });
  });

  it('name an S3 bucket and key prefix with STORAGE_URL, with the endpoint, addressing, region and keys beside it', () => {
    expect(artifactStoreSettings(loadConfig({ ...S3, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-example' }))).toEqual({
      kind: 's3',
      bucket: 'trainyard-artifacts',
      prefix: 'prod/eu/',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' },
    });
  });

  it('take a bucket without prefix, a trailing slash, AWS itself (no endpoint), us-east-1 and the SDK credential chain by default', () => {
    expect(artifactStoreSettings(loadConfig({ STORAGE_URL: 's3://my.bucket' }))).toEqual({
      kind: 's3',
      bucket: 'my.bucket',
      prefix: '',
      endpoint: undefined,
      forcePathStyle: false,
      region: 'us-east-1',
      credentials: undefined,
    });
    expect(artifactStoreSettings(loadConfig({ STORAGE_URL: 's3://my-bucket/a/b/' }))).toMatchObject({ bucket: 'my-bucket', prefix: 'a/b/' });
  });

  it.each([
    [{ STORAGE_URL: '/data/artifacts' }, /STORAGE_URL must be s3:\/\/<bucket>\[\/<prefix>\]/],
    [{ STORAGE_URL: 's3://Upper-Case' }, /STORAGE_URL must be s3:\/\/<bucket>/],
    [{ STORAGE_URL: 's3://bucket/../elsewhere' }, /STORAGE_URL must be s3:\/\/<bucket>/],
    [{ ...S3, S3_ENDPOINT: 'minio:9000' }, /S3_ENDPOINT must be an http:\/\/ or https:\/\/ URL, got "minio:9000"/],
    [{ ...S3, S3_FORCE_PATH_STYLE: 'yes' }, /S3_FORCE_PATH_STYLE must be one of "true", "false", got "yes"/],
    [{ ...S3, AWS_REGION: 'EU West' }, /AWS_REGION must be a region name such as eu-west-1/],
    [{ S3_ENDPOINT: 'http://minio:9000' }, /S3_ENDPOINT is set but STORAGE_URL is not/],
  ])('rejects %o naming the variable and what it takes', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('wants both keys or neither, and never echoes them', () => {
    for (const env of [{ AWS_ACCESS_KEY_ID: 'AKIA-ONLY-KEY' }, { AWS_SECRET_ACCESS_KEY: 'only-the-secret-value' }]) {
      let message = '';
      try {
        loadConfig({ ...S3, ...env });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together, or neither/);
      expect(message).not.toMatch(/AKIA-ONLY-KEY|only-the-secret-value/);
    }
  });

  it('describe the store without credentials', () => {
    const store = artifactStoreFor(
      loadConfig({ ...S3, S3_ENDPOINT: 'https://user:pass@minio.example:9000/', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-example' }),
    );
    expect(store.describe()).toBe('s3://trainyard-artifacts/prod/eu/ at https://minio.example:9000');
    expect(artifactStoreFor(loadConfig({ ARTIFACT_DIR: '/data/a' })).describe()).toBe('disk:/data/a');
  });
});
