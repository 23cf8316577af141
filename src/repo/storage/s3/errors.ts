/** Turns AWS SDK errors into PgkeepErrors that name the object and say what to do. */
import { PgkeepError } from '../../../errors.js';
import { formatDuration } from '../../../config/duration.js';
import { S3DeadlineExceeded } from './deadline.js';

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function shape(e: unknown): SdkErrorShape {
  return typeof e === 'object' && e !== null ? (e as SdkErrorShape) : {};
}

/** The S3 error code (NoSuchKey, AccessDenied...) or the Node errno (ECONNREFUSED...). */
export function s3ErrorName(e: unknown): string {
  const s = shape(e);
  return String(s.Code ?? s.name ?? s.code ?? 'Error');
}

export function s3Status(e: unknown): number | undefined {
  return shape(e).$metadata?.httpStatusCode;
}

export function isS3NotFound(e: unknown): boolean {
  const name = s3ErrorName(e);
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || s3Status(e) === 404;
}

export function isPreconditionFailed(e: unknown): boolean {
  return s3ErrorName(e) === 'PreconditionFailed' || s3Status(e) === 412;
}

/** A concurrent conditional write on the same key is in flight (AWS answers 409): try again. */
export function isConditionalConflict(e: unknown): boolean {
  return s3ErrorName(e) === 'ConditionalRequestConflict' || s3Status(e) === 409;
}

export function isInvalidRange(e: unknown): boolean {
  return s3ErrorName(e) === 'InvalidRange' || s3Status(e) === 416;
}

const CREDENTIAL_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'CredentialsProviderError',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'TimeoutError']);

export function s3Error(location: string, endpoint: string, action: string, key: string, e: unknown): PgkeepError {
  if (e instanceof PgkeepError) return e;
  if (e instanceof S3DeadlineExceeded) return deadlineError(location, endpoint, action, key, e);
  const name = s3ErrorName(e);
  const status = s3Status(e);
  const raw = shape(e).message;
  const message = raw && raw !== name && raw !== 'UnknownError' ? `${name}: ${raw}` : `${name}${status ? ` (HTTP ${status})` : ''}`;
  const details = { key, s3Error: name, ...(status ? { httpStatus: status } : {}) };
  if (isS3NotFound(e)) {
    return new PgkeepError('NOT_FOUND', `repository object ${key} does not exist in ${location}`, {
      hint: 'run `pgkeep repo check` to see whether the repository is damaged',
      details,
      cause: e,
    });
  }
  let hint = `check the S3 endpoint (${endpoint}), the bucket and your credentials`;
  if (name === 'NoSuchBucket') {
    hint = `create the bucket first, or fix the bucket name in the repository location ${location}`;
  } else if (CREDENTIAL_NAMES.has(name) || status === 403) {
    hint =
      'S3 refused the credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), ' +
      `and make sure they may read, write, list and delete objects in ${location}`;
  } else if (NETWORK_CODES.has(name) || NETWORK_CODES.has(String(shape(e).code))) {
    hint = `could not reach the S3 endpoint ${endpoint}; check repo.s3_endpoint, the network and that the service is running`;
  }
  return new PgkeepError('REPOSITORY', `could not ${action} repository object ${key} in ${location}: ${message}`, {
    hint,
    details,
    cause: e,
  });
}

function deadlineError(location: string, endpoint: string, action: string, key: string, e: S3DeadlineExceeded): PgkeepError {
  const last = e.last instanceof Error && e.last.message !== 'aborted' ? ` (last error: ${s3ErrorName(e.last)}: ${e.last.message})` : '';
  return new PgkeepError(
    'REPOSITORY',
    `could not ${action} repository object ${key} in ${location}: the S3 endpoint ${endpoint} gave no complete answer ` +
      `within ${formatDuration(e.timeoutMs)} (s3_timeout), retries included${last}`,
    {
      hint: `check that ${endpoint} is reachable and healthy; on a slow link raise [repo] s3_timeout (or PGKEEP_S3_TIMEOUT)`,
      details: { key, endpoint, timeoutMs: e.timeoutMs },
      cause: e.last,
    },
  );
}
