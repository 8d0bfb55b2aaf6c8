// The registry module's public surface: pull and push over the OCI distribution protocol, as Ollama
// speaks it, into and out of an Ollama-compatible store.
export { pull, checkImageManifest, DEFAULT_CONCURRENCY, MAX_MANIFEST_BYTES, MANIFEST_MEDIA_TYPES } from './pull.js';
export type { PullOptions, PullResult, PulledBlob, TransferOptions } from './pull.js';
export { push } from './push.js';
export type { PushOptions, PushResult, PushedBlob } from './push.js';
export { RegistryError } from './errors.js';
export { resolveEndpoint, manifestUrl, blobUrl, uploadsUrl } from './endpoint.js';
export type { RegistryEndpoint, EndpointOptions } from './endpoint.js';
export { RegistryClient, DEFAULT_STALL_TIMEOUT_MS } from './client.js';
export type { RegistryClientOptions } from './client.js';
export { credentialsFromEnv, parseChallenges, ollamaTokenUrl, ollamaSignedData } from './auth.js';
export type { RegistryCredentials, Challenge } from './auth.js';
export { loadOllamaKey, parseOllamaKey, defaultOllamaKeyPath } from './sshKey.js';
export type { OllamaKey } from './sshKey.js';
export { OLLAMA_PART_PLAN, partSizeFor, planParts, discardPartial } from './blobDownload.js';
export type { PartPlan, DownloadPart } from './blobDownload.js';
export { mountSource } from './blobUpload.js';
export { DEFAULT_RETRY_POLICY } from './http.js';
export type { RetryPolicy } from './http.js';
export type { TransferProgress, BlobOutcome, ProgressListener } from './progress.js';
