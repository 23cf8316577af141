/**
 * The S3 storage driver (AWS S3 or any S3-compatible service such as Ceph RGW or MinIO), on the
 * AWS SDK for JavaScript v3. Objects live at <prefix><key> in one bucket. A PUT is atomic on S3,
 * so no temporary names are needed; large objects go up as multipart uploads through
 * @aws-sdk/lib-storage with a bounded number of parts in flight.
 *
 * Memory while uploading one stream is bounded by (UPLOAD_QUEUE_SIZE + 2) x UPLOAD_PART_SIZE =
 * 4 x 5 MiB = 20 MiB: two parts in flight, the part being assembled from the stream's chunks,
 * and its concatenated copy (measured: at most about 20 MiB of live memory for a 50 MiB
 * stream). Two parts in flight already saturate a local Ceph RGW; callers that need more
 * throughput upload several objects at once. With 5 MiB parts one object can be at most
 * 10,000 parts = 48.8 GiB; pgkeep's objects (packs, WAL segments, manifests) are far smaller.
 *
 * The SDK is imported lazily so commands on a local repository do not pay for loading it.
 */
import { Readable } from 'node:stream';
import type { S3Client as S3ClientType } from '@aws-sdk/client-s3';
import type { ByteRange, ObjectInfo, StorageDriver, TemporaryObject } from '../driver.js';
import { validateKey, validatePrefix } from '../keys.js';
import { validateRange } from '../range.js';
import { withBackoff } from './backoff.js';
import { attemptBounds, DEFAULT_S3_TIMEOUT_MS, withDeadline } from './deadline.js';
import { isConditionalConflict, isInvalidRange, isPreconditionFailed, isS3NotFound, s3Error, s3ErrorName } from './errors.js';
import { parseS3Location } from './location.js';

export const UPLOAD_PART_SIZE = 5 * 1024 * 1024;
export const UPLOAD_QUEUE_SIZE = 2;
/** Attempts per request for the SDK's standard retry strategy (backoff with jitter). */
export const MAX_ATTEMPTS = 6;

export interface S3DriverOptions {
  /** s3://bucket/prefix */
  location: string;
  /** Endpoint URL of an S3-compatible service; AWS when absent. */
  endpoint?: string;
  /** Default us-east-1. */
  region?: string;
  /** Path-style addressing; default true when an endpoint is given. */
  forcePathStyle?: boolean;
  /** Explicit credentials (tests); otherwise the SDK's default chain (environment, profile, role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Multipart part size in bytes (min 5 MiB). */
  partSize?: number;
  /** Parts uploaded concurrently per stream. */
  queueSize?: number;
  /** Bound of one driver call (every attempt and backoff included), ms; default 60 s. */
  timeoutMs?: number;
  /** Interrupt (SIGINT/SIGTERM): calls in flight end at once with its reason. */
  signal?: AbortSignal;
}

type Sdk = typeof import('@aws-sdk/client-s3');
let sdkPromise: Promise<Sdk> | undefined;

function loadSdk(): Promise<Sdk> {
  // The SDK warns on stderr about future Node version support; keep pgkeep's output clean.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  sdkPromise ??= import('@aws-sdk/client-s3');
  return sdkPromise;
}

export class S3Driver implements StorageDriver {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint: string;
  readonly timeoutMs: number;
  private readonly opts: S3DriverOptions;
  private clientPromise?: Promise<{ sdk: Sdk; client: S3ClientType }>;

  constructor(opts: S3DriverOptions) {
    const { bucket, prefix } = parseS3Location(opts.location);
    this.bucket = bucket;
    this.prefix = prefix;
    this.location = `s3://${bucket}/${prefix}`.replace(/\/$/, '');
    this.endpoint = opts.endpoint ?? 'AWS S3';
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS;
    this.opts = opts;
  }

  private connect(): Promise<{ sdk: Sdk; client: S3ClientType }> {
    this.clientPromise ??= loadSdk().then((sdk) => {
      const o = this.opts;
      const client = new sdk.S3Client({
        region: o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
        ...(o.credentials ? { credentials: o.credentials } : {}),
        maxAttempts: MAX_ATTEMPTS,
        retryMode: 'standard',
        // Checksums only where S3 requires them: S3-compatible services (Ceph RGW 16) reject
        // the newer flexible-checksum trailers the SDK would otherwise add to every PUT.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: attemptBounds(this.timeoutMs),
      });
      return { sdk, client };
    });
    return this.clientPromise;
  }

  private objectKey(key: string): string {
    validateKey(key);
    return this.prefix + key;
  }

  private fail(action: string, key: string, e: unknown): Error {
    return s3Error(this.location, this.endpoint, action, key, e);
  }

  /** One driver call under its deadline (see deadline.ts); the signal goes to every request it sends. */
  private bounded<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(this.timeoutMs, this.opts.signal, fn);
  }

  async put(key: string, data: Buffer | Uint8Array): Promise<void> {
    const Key = this.objectKey(key);
    const { sdk, client } = await this.connect();
    try {
      await this.bounded((abortSignal) =>
        client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.byteLength }), { abortSignal }),
      );
    } catch (e) {
      throw this.fail('write', key, e);
    }
  }

  async putStream(key: string, data: Readable, callerSignal?: AbortSignal): Promise<void> {
    // Each part is bounded per attempt by the request handler; the interrupt aborts the upload.
    const signals = [callerSignal, this.opts.signal].filter((x): x is AbortSignal => x !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const Key = this.objectKey(key);
    const [{ client }, { Upload }] = await Promise.all([this.connect(), import('@aws-sdk/lib-storage')]);
    signal?.throwIfAborted();
    const upload = new Upload({
      client,
      params: { Bucket: this.bucket, Key, Body: data },
      partSize: this.opts.partSize ?? UPLOAD_PART_SIZE,
      queueSize: this.opts.queueSize ?? UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort().catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    // A failing source stream must fail the upload rather than leave it waiting.
    let sourceError: unknown;
    const onSourceError = (e: unknown) => {
      sourceError = e;
      onAbort();
    };
    data.once('error', onSourceError);
    try {
      await upload.done();
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      throw this.fail('write', key, sourceError ?? e);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      data.off('error', onSourceError);
    }
  }

  async createIfAbsent(key: string, data: Buffer | Uint8Array): Promise<boolean> {
    const Key = this.objectKey(key);
    const { sdk, client } = await this.connect();
    try {
      return await this.bounded((abortSignal) =>
        withBackoff(
          async () => {
            try {
              await client.send(
                new sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.byteLength, IfNoneMatch: '*' }),
                { abortSignal },
              );
              return true;
            } catch (e) {
              if (isPreconditionFailed(e)) return false;
              throw e;
            }
          },
          isConditionalConflict,
          { attempts: 8, baseMs: 50, maxMs: 2000, signal: abortSignal },
        ),
      );
    } catch (e) {
      throw this.fail('create', key, e);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    // The deadline covers the answer's body too: a stalled transfer cannot hang a read.
    return this.bounded(async (abortSignal) => {
      const body = await this.getBody(key, range, abortSignal);
      if (!body) return Buffer.alloc(0);
      try {
        const bytes = await body.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (e) {
        throw this.fail('read', key, e);
      }
    }).catch((e: unknown) => {
      throw this.fail('read', key, e);
    });
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    // Bounded until the answer starts; the body is then read at the caller's pace (a stalled
    // socket still fails after the per-attempt idle bound), so only the interrupt is attached.
    const body = await this.bounded(() => this.getBody(key, range, this.opts.signal)).catch((e: unknown) => {
      throw this.fail('read', key, e);
    });
    if (!body) return Readable.from([]);
    return body as unknown as Readable; // a Node IncomingMessage under Node
  }

  /** GetObject; undefined when the (existing) object has no bytes in the range. */
  private async getBody(key: string, range: ByteRange | undefined, abortSignal: AbortSignal | undefined) {
    const Key = this.objectKey(key);
    if (range) validateRange(range);
    const { sdk, client } = await this.connect();
    if (range && range.length === 0) {
      // S3 cannot express an empty range; still report a missing object.
      if (!(await this.stat(key))) throw this.fail('read', key, { name: 'NoSuchKey' });
      return undefined;
    }
    try {
      const res = await client.send(
        new sdk.GetObjectCommand({
          Bucket: this.bucket,
          Key,
          ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
        }),
        { abortSignal },
      );
      return res.Body;
    } catch (e) {
      if (range && isInvalidRange(e)) return undefined; // offset at or past the end: no bytes
      throw this.fail('read', key, e);
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.objectKey(key);
    const { sdk, client } = await this.connect();
    try {
      const res = await this.bounded((abortSignal) =>
        client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key }), { abortSignal }),
      );
      return { key, size: res.ContentLength ?? 0, mtimeMs: res.LastModified?.getTime() ?? 0 };
    } catch (e) {
      if (isS3NotFound(e)) return undefined;
      throw this.fail('stat', key, e);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    const { sdk, client } = await this.connect();
    let ContinuationToken: string | undefined;
    do {
      let res;
      try {
        res = await this.bounded((abortSignal) =>
          client.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken }), {
            abortSignal,
          }),
        );
      } catch (e) {
        throw this.fail('list', `${prefix}*`, e);
      }
      for (const o of res.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/')) continue; // "folder" markers made by consoles
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0, mtimeMs: o.LastModified?.getTime() ?? 0 };
      }
      ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    const { sdk, client } = await this.connect();
    try {
      await this.bounded((abortSignal) => client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key }), { abortSignal }));
    } catch (e) {
      if (isS3NotFound(e)) return;
      throw this.fail('delete', key, e);
    }
  }

  /** Multipart uploads under the prefix that were never completed nor aborted (a killed writer's). */
  async *listTemporary(): AsyncIterable<TemporaryObject> {
    const { sdk, client } = await this.connect();
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.bounded((abortSignal) =>
          client.send(new sdk.ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix, KeyMarker, UploadIdMarker }), {
            abortSignal,
          }),
        );
      } catch (e) {
        throw this.fail('list', 'multipart uploads', e);
      }
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId) continue;
        let size = 0;
        try {
          const parts = await this.bounded((abortSignal) =>
            client.send(new sdk.ListPartsCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }), { abortSignal }),
          );
          size = (parts.Parts ?? []).reduce((n, p) => n + (p.Size ?? 0), 0);
        } catch (e) {
          if (s3ErrorName(e) !== 'NoSuchUpload') throw this.fail('list', u.Key, e);
          continue; // completed or aborted meanwhile
        }
        yield { key: u.Key.slice(this.prefix.length), size, mtimeMs: u.Initiated?.getTime() ?? 0, uploadId: u.UploadId };
      }
      KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      UploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (KeyMarker);
  }

  async deleteTemporary(t: TemporaryObject): Promise<void> {
    const { sdk, client } = await this.connect();
    try {
      await this.bounded((abortSignal) =>
        client.send(new sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.prefix + t.key, UploadId: t.uploadId }), {
          abortSignal,
        }),
      );
    } catch (e) {
      if (s3ErrorName(e) === 'NoSuchUpload' || isS3NotFound(e)) return;
      throw this.fail('delete', t.key, e);
    }
  }

  async close(): Promise<void> {
    if (!this.clientPromise) return;
    const { client } = await this.clientPromise.catch(() => ({ client: undefined }));
    client?.destroy();
    this.clientPromise = undefined;
  }
}
