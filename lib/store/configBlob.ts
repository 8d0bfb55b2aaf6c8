// The JSON blobs of a model, byte for byte as Ollama's create writes them with json.NewEncoder:
// the config blob (types/model/config.go ConfigV2, field order and omitempty kept), the params blob
// (a map[string]any, keys sorted) and the messages blob ([]api.Message with role and content).
import { StoreError } from './errors.js';
import { encodeGoJson, goStruct, type GoJsonValue, type GoStruct, type GoStructField } from './goJson.js';

export interface DraftConfig {
  readonly modelFormat?: string;
  readonly architecture?: string;
  readonly tensorPrefix?: string;
  readonly config?: string;
}

/** ConfigV2 in TypeScript spelling; encodeConfigBlob writes Ollama's JSON keys in its struct order. */
export interface ModelConfig {
  /** Container format: "gguf" ("safetensors" for MLX models). */
  readonly modelFormat: string;
  /** general.architecture of the model layer. */
  readonly modelFamily: string;
  /** One entry per model layer; null is Go's nil slice (remote stubs). */
  readonly modelFamilies: readonly string[] | null;
  /** format.HumanNumber(parameter count), e.g. "8.0B". */
  readonly modelType: string;
  /** FileType.String(), e.g. "Q4_K_M". */
  readonly fileType: string;
  readonly renderer?: string;
  readonly parser?: string;
  readonly requires?: string;
  readonly remoteHost?: string;
  readonly remoteModel?: string;
  readonly capabilities?: readonly string[];
  readonly contextLength?: number;
  readonly embeddingLength?: number;
  readonly baseName?: string;
  readonly draft?: DraftConfig;
  /** Always "amd64" in Ollama (a constant, not the host). */
  readonly architecture?: string;
  /** Always "linux" in Ollama. */
  readonly os?: string;
  /**
   * Written by Ollama before v0.32.7 after `os`: {"type":"layers","diff_ids":[every layer digest in
   * manifest order]}. Omit it to match current Ollama; both generations read either form.
   */
  readonly rootfs?: { readonly type?: string; readonly diffIds: readonly string[] };
}

function int(value: number | undefined, name: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value)) throw new RangeError(`Expected an integer for ${name} but received ${String(value)}`);
  return BigInt(value);
}

function configStruct(config: ModelConfig): GoStruct {
  const draft = config.draft;
  const fields: GoStructField[] = [
    { name: 'model_format', value: config.modelFormat },
    { name: 'model_family', value: config.modelFamily },
    { name: 'model_families', value: config.modelFamilies === null ? null : [...config.modelFamilies] },
    { name: 'model_type', value: config.modelType },
    { name: 'file_type', value: config.fileType },
    { name: 'renderer', value: config.renderer, omitEmpty: true },
    { name: 'parser', value: config.parser, omitEmpty: true },
    { name: 'requires', value: config.requires, omitEmpty: true },
    { name: 'remote_host', value: config.remoteHost, omitEmpty: true },
    { name: 'remote_model', value: config.remoteModel, omitEmpty: true },
    { name: 'capabilities', value: config.capabilities === undefined ? undefined : [...config.capabilities], omitEmpty: true },
    { name: 'context_length', value: int(config.contextLength, 'contextLength'), omitEmpty: true },
    { name: 'embedding_length', value: int(config.embeddingLength, 'embeddingLength'), omitEmpty: true },
    { name: 'base_name', value: config.baseName, omitEmpty: true },
    {
      name: 'draft',
      // *Draft: a non-nil pointer is written even when every field inside is empty ("draft":{}).
      value:
        draft === undefined
          ? undefined
          : goStruct([
              { name: 'model_format', value: draft.modelFormat, omitEmpty: true },
              { name: 'architecture', value: draft.architecture, omitEmpty: true },
              { name: 'tensor_prefix', value: draft.tensorPrefix, omitEmpty: true },
              { name: 'config', value: draft.config, omitEmpty: true },
            ]),
      omitEmpty: true,
    },
    { name: 'architecture', value: config.architecture ?? 'amd64' },
    { name: 'os', value: config.os ?? 'linux' },
  ];
  if (config.rootfs !== undefined) {
    fields.push({
      name: 'rootfs',
      value: goStruct([
        { name: 'type', value: config.rootfs.type ?? 'layers' },
        { name: 'diff_ids', value: [...config.rootfs.diffIds] },
      ]),
    });
  }
  return goStruct(fields);
}

/** The config blob (media type application/vnd.docker.container.image.v1+json). */
export function encodeConfigBlob(config: ModelConfig): Buffer {
  for (const key of ['modelFormat', 'modelFamily', 'modelType', 'fileType'] as const) {
    if (typeof config[key] !== 'string') throw new TypeError(`Expected a string for config.${key} but received ${typeof config[key]}`);
  }
  return encodeGoJson(configStruct(config));
}

function blobJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new StoreError('ERR_STORE_MANIFEST', `${what} blob is not JSON: ${(error as Error).message}`);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && v !== 0 ? v : undefined);

/** Reads a config blob (any Ollama generation; unknown keys ignored, rootfs kept when present). */
export function decodeConfigBlob(bytes: Uint8Array): ModelConfig {
  const v = blobJson(bytes, 'config');
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new StoreError('ERR_STORE_MANIFEST', 'config blob is not a JSON object');
  const c = v as Record<string, unknown>;
  const strings = (x: unknown): string[] | undefined => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : undefined);
  const d = c.draft !== null && typeof c.draft === 'object' ? (c.draft as Record<string, unknown>) : undefined;
  const r = c.rootfs !== null && typeof c.rootfs === 'object' ? (c.rootfs as Record<string, unknown>) : undefined;
  const out: Record<string, unknown> = {
    modelFormat: typeof c.model_format === 'string' ? c.model_format : '',
    modelFamily: typeof c.model_family === 'string' ? c.model_family : '',
    modelFamilies: strings(c.model_families) ?? null,
    modelType: typeof c.model_type === 'string' ? c.model_type : '',
    fileType: typeof c.file_type === 'string' ? c.file_type : '',
    renderer: str(c.renderer),
    parser: str(c.parser),
    requires: str(c.requires),
    remoteHost: str(c.remote_host),
    remoteModel: str(c.remote_model),
    capabilities: strings(c.capabilities),
    contextLength: num(c.context_length),
    embeddingLength: num(c.embedding_length),
    baseName: str(c.base_name),
    draft: d && { modelFormat: str(d.model_format), architecture: str(d.architecture), tensorPrefix: str(d.tensor_prefix), config: str(d.config) },
    architecture: typeof c.architecture === 'string' ? c.architecture : '',
    os: typeof c.os === 'string' ? c.os : '',
    rootfs: r && { type: typeof r.type === 'string' ? r.type : 'layers', diffIds: strings(r.diff_ids) ?? [] },
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  if (d) {
    const draft = out.draft as Record<string, unknown>;
    for (const key of Object.keys(draft)) if (draft[key] === undefined) delete draft[key];
  }
  return out as unknown as ModelConfig;
}

/**
 * A params value as api.FormatParams makes it: GoFloat32 for float options (temperature, top_p…),
 * bigint for int options (num_ctx, seed…), boolean, string, string[] (stop). A plain number is a
 * float64, which is what a value inherited from an existing params blob decodes to in Go.
 */
export type ParamValue = GoJsonValue;

/** The params blob: a JSON object with sorted keys, e.g. {"stop":["\u003c|eot_id|\u003e"],"temperature":0.7}\n. */
export function encodeParamsBlob(params: Readonly<Record<string, ParamValue | undefined>> | ReadonlyMap<string, ParamValue>): Buffer {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new TypeError(`Expected an object for params but received ${Array.isArray(params) ? 'Array' : typeof params}`);
  return encodeGoJson(params);
}

/** Reads a params blob as Go's map[string]any would hold it: every number a float64 (a JS number). */
export function decodeParamsBlob(bytes: Uint8Array): Record<string, ParamValue> {
  const v = blobJson(bytes, 'params');
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new StoreError('ERR_STORE_MANIFEST', 'params blob is not a JSON object');
  return v as Record<string, ParamValue>;
}

export interface ModelMessage {
  readonly role: string;
  readonly content: string;
}

/** The messages blob: [{"role":…,"content":…},…]\n (api.Message; its other fields are omitempty and never set by a Modelfile). */
export function encodeMessagesBlob(messages: readonly ModelMessage[]): Buffer {
  if (!Array.isArray(messages)) throw new TypeError(`Expected an array for messages but received ${typeof messages}`);
  return encodeGoJson(
    messages.map((m, i) => {
      if (typeof m?.role !== 'string' || typeof m.content !== 'string') throw new TypeError(`Expected {role: string, content: string} for messages[${i}]`);
      return goStruct([
        { name: 'role', value: m.role },
        { name: 'content', value: m.content },
      ]);
    }),
  );
}

export function decodeMessagesBlob(bytes: Uint8Array): ModelMessage[] {
  const v = blobJson(bytes, 'messages');
  if (!Array.isArray(v)) throw new StoreError('ERR_STORE_MANIFEST', 'messages blob is not a JSON array');
  return v.map((m: unknown) => {
    const o = (m ?? {}) as Record<string, unknown>;
    // api.Message.UnmarshalJSON lower-cases the role.
    return { role: typeof o.role === 'string' ? o.role.toLowerCase() : '', content: typeof o.content === 'string' ? o.content : '' };
  });
}
