export { S3Driver, UPLOAD_PART_SIZE, UPLOAD_QUEUE_SIZE, MAX_ATTEMPTS } from './s3-driver.js';
export type { S3DriverOptions } from './s3-driver.js';
export { parseS3Location } from './location.js';
export type { S3Location } from './location.js';
