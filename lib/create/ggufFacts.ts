// What create needs to know about a GGUF layer, read from its header only: the layer's media type
// (Ollama's ggufLayers rules) and the config fields it contributes (createModel: model_family,
// model_type, file_type), plus the few metadata values `show` prints.
import { parameterCount } from '../gguf/ggmlTypes.js';
import { numberToJson } from '../gguf/ggufJson.js';
import { GgufValueType, type GgufArray, type GgufHeader, type GgufMetadataEntry, type GgufValue } from '../gguf/types.js';
import { MEDIA_TYPES } from '../store/manifest.js';
import { humanNumber, ollamaFileTypeName } from './ollamaFormat.js';

export interface GgufFacts {
  /** general.architecture ('' when absent, as Ollama's KV.Architecture()). */
  architecture: string;
  /** general.type ("model", "adapter", "projector", "mmproj"…; '' when absent). */
  kind: string;
  /** Σ tensor elements (what Ollama's decoder patches into general.parameter_count). */
  parameterCount: number;
  /** format.HumanNumber(parameterCount): "8.0B", "513K". */
  modelType: string;
  /** general.file_type as Ollama names it ("F16", "Q4_K_M"; "unknown" for 0, as Ollama). */
  fileType: string;
  /** general.file_type as stored (undefined when absent). */
  fileTypeId: number | undefined;
  /** The media type Ollama gives this GGUF when it is a FROM file. */
  mediaType: string;
  /** `<arch>.context_length` and `<arch>.embedding_length`, when present. */
  contextLength: number | undefined;
  embeddingLength: number | undefined;
  /** Length of tokenizer.chat_template (undefined when the GGUF has none). */
  chatTemplateLength: number | undefined;
  /** split.count when > 1 (one shard of a split GGUF). */
  splitCount: number | undefined;
}

function entry(metadata: readonly GgufMetadataEntry[], key: string): GgufMetadataEntry | undefined {
  return metadata.find((m) => m.key === key);
}

/** A scalar unsigned/signed integer value (Ollama's KV.Uint reads any integer type). */
function integer(metadata: readonly GgufMetadataEntry[], key: string): number | undefined {
  const e = entry(metadata, key);
  if (e === undefined || e.type === GgufValueType.ARRAY) return undefined;
  if (typeof e.value === 'bigint') return Number(e.value);
  if (typeof e.value === 'number' && Number.isInteger(e.value) && e.type !== GgufValueType.FLOAT32 && e.type !== GgufValueType.FLOAT64) return e.value;
  return undefined;
}

function string(metadata: readonly GgufMetadataEntry[], key: string): string {
  const e = entry(metadata, key);
  return e !== undefined && e.type === GgufValueType.STRING && typeof e.value === 'string' ? e.value : '';
}

function bool(metadata: readonly GgufMetadataEntry[], key: string): boolean {
  const e = entry(metadata, key);
  return e !== undefined && e.type === GgufValueType.BOOL && e.value === true;
}

/**
 * server/create.go ggufLayers + isProjectorGGUF: general.type "adapter" → adapter; "projector"/"mmproj",
 * a vision tower without text blocks, or a clip encoder → projector; anything else → model.
 */
function mediaTypeOf(metadata: readonly GgufMetadataEntry[], arch: string, kind: string): string {
  if (kind === 'adapter') return MEDIA_TYPES.adapter;
  if (kind === 'projector' || kind === 'mmproj') return MEDIA_TYPES.projector;
  // KV.Uint("block_count") prefixes the architecture.
  const blocks = integer(metadata, `${arch}.block_count`) ?? 0;
  if (blocks === 0 && (integer(metadata, `${arch}.vision.block_count`) ?? 0) > 0) return MEDIA_TYPES.projector;
  if (arch === 'clip' && blocks === 0 && (bool(metadata, 'clip.has_vision_encoder') || bool(metadata, 'clip.has_audio_encoder'))) return MEDIA_TYPES.projector;
  return MEDIA_TYPES.model;
}

export function ggufFacts(header: Pick<GgufHeader, 'metadata' | 'tensors'>): GgufFacts {
  const { metadata } = header;
  const architecture = string(metadata, 'general.architecture');
  const kind = string(metadata, 'general.type');
  const count = parameterCount(header);
  const fileTypeId = integer(metadata, 'general.file_type');
  const chatTemplate = string(metadata, 'tokenizer.chat_template');
  const splitCount = integer(metadata, 'split.count');
  return {
    architecture,
    kind,
    parameterCount: count,
    modelType: humanNumber(count),
    fileType: ollamaFileTypeName(fileTypeId),
    fileTypeId,
    mediaType: mediaTypeOf(metadata, architecture, kind),
    contextLength: integer(metadata, `${architecture}.context_length`),
    embeddingLength: integer(metadata, `${architecture}.embedding_length`),
    chatTemplateLength: chatTemplate === '' ? undefined : chatTemplate.length,
    splitCount: splitCount !== undefined && splitCount > 1 ? splitCount : undefined,
  };
}

/** A metadata value as /api/show's model_info holds it: numbers, strings, booleans; arrays longer than `maxArray` as null. */
export function modelInfoValue(e: GgufMetadataEntry, maxArray = 1024): unknown {
  const scalar = (type: GgufValueType, v: GgufValue): unknown => {
    if (type === GgufValueType.ARRAY) return modelInfoValue({ key: e.key, type, value: v }, maxArray);
    if (type === GgufValueType.STRING) return v;
    return numberToJson(type, v as number | bigint | boolean);
  };
  if (e.type !== GgufValueType.ARRAY) return scalar(e.type, e.value);
  const array = e.value as GgufArray;
  const items = array.items as ArrayLike<GgufValue>;
  if (items.length > maxArray) return null;
  return Array.from(items, (item) => scalar(array.itemType, item));
}
