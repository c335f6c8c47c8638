/** Format constants shared by the main thread and the worker threads. */
export const FORMAT_VERSION = '1.0.0';
export const SHA_BLOCK_SIZE = 32 * 1024;
export const DEFAULT_OBJECT_SIZE = 32 * 1024 * 1024;
export const DIGEST_BYTES = 32;
