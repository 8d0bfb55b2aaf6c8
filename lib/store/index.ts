// The store module's public surface: Ollama-compatible model store, names, manifests and the
// Go-compatible JSON encoding of its blobs.
export { StoreError } from './errors.js';
export { GoFloat32, GoRawString, GoStruct, goFloat32, goStruct, marshalGoJson, encodeGoJson, compareUtf8 } from './goJson.js';
export type { GoJsonValue, GoStructField } from './goJson.js';
export { goFloatText } from './goFloat.js';
export {
  DEFAULT_HOST,
  DEFAULT_NAMESPACE,
  DEFAULT_TAG,
  DEFAULT_SCHEME,
  MAX_HOST_LENGTH,
  MAX_PART_LENGTH,
  parseModelName,
  isValidModelName,
  modelNameProblem,
  modelNameFromParts,
  namePartProblem,
  isValidNamePart,
  formatModelName,
  displayShortest,
  manifestPathParts,
  modelNameFromPathParts,
  modelNamesEqualFold,
} from './names.js';
export type { ModelName, NamePart } from './names.js';
export {
  MEDIA_TYPES,
  digestHex,
  isDigest,
  blobFileName,
  digestOfBlobFileName,
  encodeManifest,
  parseManifest,
  manifestDigests,
  manifestSize,
} from './manifest.js';
export type { Layer, Manifest, MediaType } from './manifest.js';
export { encodeConfigBlob, decodeConfigBlob, encodeParamsBlob, decodeParamsBlob, encodeMessagesBlob, decodeMessagesBlob } from './configBlob.js';
export type { ModelConfig, DraftConfig, ParamValue, ModelMessage } from './configBlob.js';
export { BlobWriter, BLOB_TEMP_PREFIX, hashFile } from './blobs.js';
export type { BlobInfo, BlobFileOptions, BlobImportMethod, BlobProgress } from './blobs.js';
export { MANIFEST_TEMP_PREFIX } from './manifestTree.js';
export { ModelStore, openStore, resolveStoreRoot, PIN_TTL_MS } from './store.js';
export type { StoreOptions, NewLayer, StoredManifest, WrittenManifest, ModelListing, RemoveResult } from './store.js';
export { DEFAULT_PRUNE_GRACE_MS } from './upkeep.js';
export type { PruneOptions, PruneReport, PrunedFile, VerifyOptions, VerifyReport, VerifyProblem, VerifyProblemKind } from './upkeep.js';
