// `ollama create` without a server: a Modelfile becomes blobs and a manifest in an Ollama model store.
// The layers, their order, the merge rules and the config blob follow server/create.go createModel;
// GGUF files are imported as they are (the file's bytes are the model blob, as Ollama did up to
// v0.29, so the digest is the file's sha256) and the config carries `rootfs` as that generation
// wrote it. Where this differs from Ollama it is on the safe side: the source is hashed while it is
// copied (or linked, with `link`), `-q` quantizes straight from the source into the store (Ollama
// first copies the F16 file in and leaks it until its next start), every blob is fsynced before its
// digest name appears, and the manifest is written atomically once every blob it names is there.
import { readGguf, type GgufInfo } from '../gguf/ggufInfo.js';
import { GgufError } from '../gguf/errors.js';
import { fileTypeOf } from '../gguf/ggmlTypes.js';
import { modelfileToRequest, type ModelfileRequest, type ModelfileSource } from '../modelfile/request.js';
import { parseModelfile, readModelfile } from '../modelfile/parse.js';
import { parameterKind, type ParameterValue } from '../modelfile/parameters.js';
import type { Modelfile } from '../modelfile/types.js';
import { resolveFileType, type FileTypeInfo } from '../quantize/fileTypes.js';
import { quantizeModel } from '../quantize/quantizeModel.js';
import { convertModel, planConversion } from '../convert/convertModel.js';
import { pull, type PullOptions } from '../registry/pull.js';
import { checkAdapterAgainstBase, convertAdapter } from '../lora/index.js';
import type { BlobImportMethod } from '../store/blobs.js';
import { decodeConfigBlob, decodeParamsBlob, encodeConfigBlob, encodeMessagesBlob, encodeParamsBlob, type ModelConfig, type ParamValue } from '../store/configBlob.js';
import { goFloat32 } from '../store/goJson.js';
import { manifestDigests, MEDIA_TYPES, type Layer } from '../store/manifest.js';
import { displayShortest, parseModelName, type ModelName } from '../store/names.js';
import { layerStatus, openStore, type ModelStore } from '../store/store.js';
import { rm } from 'node:fs/promises';
import { CreateError } from './errors.js';
import { ggufFacts, type GgufFacts } from './ggufFacts.js';

/** One progress report, shaped like Ollama's api.ProgressResponse. */
export interface CreateProgress {
  /**
   * Ollama's status text: `parsing GGUF`, `quantizing F16 model to Q4_K_M`, `verifying conversion`,
   * `creating new layer sha256:…`, `using existing layer sha256:…`, `writing manifest`, `success`; and
   * `copying file` / `linking file` while a GGUF is imported (with total/completed, then its digest).
   */
  status: string;
  digest?: string;
  /** Bytes, for the steps that have a size (copying, quantizing). */
  total?: number;
  completed?: number;
}

export interface CreateOptions {
  /** Path of a Modelfile; relative FROM/ADAPTER/DRAFT paths in it start at its folder. */
  modelfilePath?: string;
  /** A Modelfile's text or a parsed Modelfile; relative paths start at `baseDir` (default: the cwd). */
  modelfile?: string | Modelfile;
  /** Shortcut for the one-line Modelfile `FROM <from>` (a GGUF path or a model name). */
  from?: string;
  baseDir?: string;
  /** llama-quantize file type (Q4_K_M, Q8_0…, any case) to quantize an F32/F16/BF16 model layer to. */
  quantize?: string;
  /** The store: a ModelStore, else this folder, else $OLLAMA_MODELS, else ~/.ollama/models. */
  store?: ModelStore;
  models?: string;
  /** Environment for OLLAMA_MODELS and OLLAMA_NOPRUNE (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Import GGUF files by reflink or hard link where the file system allows (no copy); see BlobFileOptions.link. */
  link?: boolean;
  /** Kernel threads for `quantize` (the bytes never depend on it). */
  threads?: number;
  /**
   * FROM a model name that is not in the store: pull it from its registry first, as Ollama does
   * (default true); pull options (insecure, credentials, …) may be given here, or false to refuse.
   */
  pull?: boolean | Omit<PullOptions, 'store' | 'signal' | 'env'>;
  signal?: AbortSignal;
  onProgress?: (progress: CreateProgress) => void;
  /** Things Ollama prints as `warning: …`, and notes such as an unused tokenizer.chat_template. */
  onWarning?: (message: string) => void;
}

export interface ImportedGguf {
  /** The source file (a FROM/ADAPTER/DRAFT path, or the blob of the model FROM names). */
  source: string;
  mediaType: string;
  digest: string;
  size: number;
  /** How its bytes reached the store: copied, reflinked, hard-linked, quantized, converted from safetensors, or already there (FROM a model). */
  method: BlobImportMethod | 'quantize' | 'convert' | 'existing';
}

export interface CreateResult {
  /** The name as stored (an existing spelling reused, like Ollama). */
  name: ModelName;
  /** `llama3.2:latest`, as `list` shows it. */
  model: string;
  /** sha256 hex of the manifest bytes; `id` is its first 12 digits (the ID column of `list`). */
  digest: string;
  id: string;
  manifestPath: string;
  config: ModelConfig;
  configLayer: Layer;
  layers: Layer[];
  /** The status lines in the order they were reported (progress reports left out). */
  statuses: string[];
  warnings: string[];
  ggufs: ImportedGguf[];
  /** Blobs of the manifest this create replaced that nothing references any more, now deleted. */
  removedBlobs: string[];
}

/** A layer on its way into the manifest, with the status line Ollama prints for it. */
interface StagedLayer {
  layer: Layer;
  status: string;
  facts?: GgufFacts;
}

interface Context {
  store: ModelStore;
  options: CreateOptions;
  quantType: FileTypeInfo | undefined;
  signal: AbortSignal | undefined;
  statuses: string[];
  warnings: string[];
  ggufs: ImportedGguf[];
  emit(progress: CreateProgress): void;
  warn(message: string): void;
}

const GGUF_MEDIA_TYPES = new Set<string>([MEDIA_TYPES.model, MEDIA_TYPES.projector, MEDIA_TYPES.adapter, MEDIA_TYPES.draft]);
const QUANTIZABLE = new Set(['F32', 'F16', 'BF16']);
/** A manifest write found a blob gone (another process's rm or create cleanup): the whole create is redone this many times. */
const ATTEMPTS = 3;

class BlobVanished extends Error {}

async function loadModelfile(options: CreateOptions): Promise<Modelfile> {
  const given = [options.modelfilePath, options.modelfile, options.from].filter((v) => v !== undefined).length;
  if (given > 1) throw new TypeError('Expected only one of modelfilePath, modelfile and from');
  if (options.modelfilePath !== undefined) {
    if (typeof options.modelfilePath !== 'string' || options.modelfilePath === '') {
      throw new TypeError(`Expected a file path for modelfilePath but received ${JSON.stringify(options.modelfilePath)}`);
    }
    return readModelfile(options.modelfilePath);
  }
  if (typeof options.modelfile === 'string') return parseModelfile(options.modelfile, options.baseDir === undefined ? {} : { baseDir: options.baseDir });
  if (options.modelfile !== undefined) {
    if (options.modelfile === null || !Array.isArray(options.modelfile.commands)) throw new TypeError('Expected Modelfile text or a parsed Modelfile for modelfile');
    return options.modelfile;
  }
  if (options.from !== undefined) {
    if (typeof options.from !== 'string' || options.from.trim() === '') throw new TypeError(`Expected a path or model name for from but received ${JSON.stringify(options.from)}`);
    const modelfile: Modelfile = { commands: [{ command: 'FROM', value: options.from }] };
    if (options.baseDir !== undefined) modelfile.baseDir = options.baseDir;
    return modelfile;
  }
  throw new CreateError('ERR_CREATE_NO_MODELFILE', 'expected a Modelfile (modelfilePath, modelfile or from) to create the model from');
}

/**
 * Creates (or replaces) the model `name` in the store from a Modelfile, as `ollama create` does.
 * Rejects with the step's typed error (see CreateError); an abort rejects with `signal.reason`.
 * Whatever happens, the store stays valid: a manifest only ever names complete blobs, and a failed
 * or killed create leaves at most unreferenced blobs and temp files, which `prune` removes.
 */
export async function create(name: string, options: CreateOptions = {}): Promise<CreateResult> {
  if (typeof name !== 'string') throw new TypeError(`Expected a model name string for name but received ${typeof name}`);
  options.signal?.throwIfAborted();
  // Like Ollama, the name is checked before anything is read (ERR_STORE_NAME: invalid or traversing).
  const parsedName = parseModelName(name);
  const quantType = options.quantize === undefined ? undefined : resolveFileType(options.quantize);
  const modelfile = await loadModelfile(options);
  const request = await modelfileToRequest(modelfile, options.baseDir === undefined ? {} : { baseDir: options.baseDir });
  const store = options.store ?? (await openStore(options.env === undefined ? { root: options.models } : { root: options.models, env: options.env }));

  // Warnings outlive a retry; statuses are those of the attempt that succeeded.
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  for (const warning of request.warnings) warn(warning);
  for (let attempt = 1; ; attempt++) {
    const ctx: Context = {
      store,
      options,
      quantType,
      signal: options.signal,
      statuses: [],
      warnings,
      ggufs: [],
      emit(progress) {
        if (progress.total === undefined) this.statuses.push(progress.status);
        options.onProgress?.(progress);
      },
      warn,
    };
    try {
      return await createOnce(ctx, parsedName, request);
    } catch (error) {
      if (!(error instanceof BlobVanished) || attempt >= ATTEMPTS) throw error instanceof BlobVanished ? error.cause : error;
      ctx.warn(`${error.message}; creating again`);
    }
  }
}

async function createOnce(ctx: Context, name: ModelName, request: ModelfileRequest): Promise<CreateResult> {
  const { store, signal } = ctx;

  // Every source is read and checked before any byte is copied or quantized.
  let inherited: ModelConfig | undefined;
  let base: PendingLayer[];
  if (request.from !== undefined) {
    // Ollama's server uses `from` and ignores files when a Modelfile has both.
    if (request.files !== undefined) ctx.warn(`FROM ${request.files.map((f) => f.written).join(', ')} ignored: another FROM names the model ${request.from}`);
    ({ layers: base, config: inherited } = await layersOfModel(ctx, request.from));
  } else if (request.files !== undefined) {
    base = [];
    // Ollama sorts the request's file keys (base names for files in one folder).
    for (const file of [...request.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) base.push(await inspectSource(ctx, file, 'FROM'));
  } else {
    throw new CreateError('ERR_CREATE_NO_MODELFILE', "neither 'from' or 'files' was specified");
  }
  const factsOf = (p: PendingLayer) => ('plan' in p ? p.plan.facts : 'staged' in p ? p.staged.facts : undefined);
  // The base an adapter must fit: the first model layer's GGUF (or the folder being converted).
  const basePath = (() => {
    for (const p of base) {
      if ('plan' in p && p.plan.mediaType === MEDIA_TYPES.model) return p.plan.path;
      if ('convert' in p) return p.convert.dir;
      if ('staged' in p && p.staged.layer.mediaType === MEDIA_TYPES.model) return store.blobPath(p.staged.layer.digest);
    }
    return undefined;
  })();
  const mediaTypeOf = (p: PendingLayer) => ('plan' in p ? p.plan.mediaType : 'staged' in p ? p.staged.layer.mediaType : MEDIA_TYPES.model);
  const modelFacts = base.filter((p) => mediaTypeOf(p) === MEDIA_TYPES.model && factsOf(p) !== undefined).map((p) => factsOf(p) as GgufFacts);
  const converting = base.flatMap((p) => ('convert' in p ? [p.convert] : []));
  if (modelFacts.length === 0 && converting.length === 0 && request.from === undefined) {
    const kinds = base.map((p) => mediaTypeOf(p).replace('application/vnd.ollama.image.', '')).join(', ');
    throw new CreateError('ERR_CREATE_NO_MODEL', `expected FROM to give a model GGUF but found only: ${kinds} (use ADAPTER for a LoRA adapter)`);
  }
  const adapters: PendingLayer[] = [];
  if (request.adapter !== undefined) {
    const source = request.adapter;
    // Every adapter tensor must fit a base tensor before anything is stored; the first mismatch names both shapes.
    const check = (adapterPath: string) => {
      if (basePath === undefined) return;
      try {
        checkAdapterAgainstBase(adapterPath, basePath);
      } catch (error) {
        throw new CreateError('ERR_CREATE_ADAPTER', `ADAPTER ${source.written} does not fit the base model: ${(error as Error).message}`, { path: source.path, cause: error });
      }
    };
    if (source.kind === 'directory') {
      if (basePath === undefined) throw new CreateError('ERR_CREATE_ADAPTER', `ADAPTER ${source.written} is a folder: converting it needs a base model GGUF or folder in FROM`, { path: source.path });
      check(source.path);
      adapters.push({ adapterDir: { dir: source.path, written: source.written, base: basePath } });
    } else {
      const adapter = await inspectSource(ctx, source, 'ADAPTER');
      const family = modelFacts[0]?.architecture ?? converting[0]?.architecture;
      if (family && adapter.plan.facts.architecture && adapter.plan.facts.architecture !== family) {
        throw new CreateError('ERR_CREATE_ADAPTER', `expected an adapter for ${family} models but ${source.written} is for ${adapter.plan.facts.architecture}`, { path: source.path });
      }
      check(source.path);
      adapters.push(adapter);
    }
  }
  const drafts: PendingLayer[] = [];
  for (const file of request.draftFiles ?? []) drafts.push(await inspectSource(ctx, file, 'DRAFT'));

  // Then the bytes: copied, linked or quantized into the store, in layer order.
  const staged: StagedLayer[] = [];
  for (const pending of [...base, ...adapters, ...drafts]) {
    if ('plan' in pending) staged.push(await importSource(ctx, pending.plan));
    else if ('convert' in pending) staged.push(await convertInto(ctx, pending.convert));
    else if ('adapterDir' in pending) staged.push(await convertAdapterInto(ctx, pending.adapterDir));
    else staged.push(pending.staged);
  }

  // createModel: base layers, then adapters, then drafts; then TEMPLATE, SYSTEM, LICENSE, params, messages.
  let layers: StagedLayer[] = staged;
  const without = (mediaType: string) => layers.filter((s) => s.layer.mediaType !== mediaType);
  const newLayer = async (content: string | Uint8Array, mediaType: string): Promise<StagedLayer> => {
    signal?.throwIfAborted();
    const made = await store.newLayer(content, mediaType);
    return { layer: made.layer, status: made.status };
  };
  if (request.template !== undefined) layers = [...without(MEDIA_TYPES.template), await newLayer(request.template, MEDIA_TYPES.template)];
  if (request.system !== undefined) layers = [...without(MEDIA_TYPES.system), await newLayer(request.system, MEDIA_TYPES.system)];
  for (const license of request.license ?? []) layers.push(await newLayer(license, MEDIA_TYPES.license));
  const params = await mergedParameters(store, layers, request.parameters);
  if (Object.keys(params).length > 0) layers = [...without(MEDIA_TYPES.params), await newLayer(encodeParamsBlob(params), MEDIA_TYPES.params)];
  if (request.messages !== undefined && request.messages.length > 0) {
    layers = [...without(MEDIA_TYPES.messages), await newLayer(encodeMessagesBlob(request.messages), MEDIA_TYPES.messages)];
  }

  if (!layers.some((s) => s.layer.mediaType === MEDIA_TYPES.template)) {
    const withTemplate = modelFacts.find((f) => f.chatTemplateLength !== undefined);
    if (withTemplate !== undefined) {
      ctx.warn(
        `the GGUF has a tokenizer.chat_template (${withTemplate.chatTemplateLength} characters) but the Modelfile has no TEMPLATE, ` +
          'so Ollama will prompt with {{ .Prompt }}; add a TEMPLATE (gguf-forge does not convert chat templates yet)',
      );
    }
  }

  const config = configFor(layers, inherited, request);
  signal?.throwIfAborted();
  const configLayer = await store.newLayer(encodeConfigBlob(config), MEDIA_TYPES.config);

  for (const staged of layers) ctx.emit({ status: staged.status });
  ctx.emit({ status: 'writing manifest' });
  signal?.throwIfAborted();
  let written;
  try {
    written = await store.writeManifest(name, configLayer.layer, layers.map((s) => s.layer));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_STORE_BLOB_MISSING') throw new BlobVanished((error as Error).message, { cause: error });
    throw error;
  }
  // Ollama's pruneOldManifestLayers: the replaced manifest's blobs that nothing references any more.
  const env = ctx.options.env ?? process.env;
  const removedBlobs = written.previous !== undefined && !env.OLLAMA_NOPRUNE ? await store.deleteUnreferencedBlobs(manifestDigests(written.previous)) : [];
  ctx.emit({ status: 'success' });
  return {
    name: written.name,
    model: displayShortest(written.name),
    digest: written.digest,
    id: written.digest.slice(0, 12),
    manifestPath: written.path,
    config,
    configLayer: configLayer.layer,
    layers: layers.map((s) => s.layer),
    statuses: ctx.statuses,
    warnings: ctx.warnings,
    ggufs: ctx.ggufs,
    removedBlobs,
  };
}

/** The config blob: createModel's fields from the model layers, rootfs listing every layer (Ollama ≤ v0.32.6). */
function configFor(layers: StagedLayer[], inherited: ModelConfig | undefined, request: ModelfileRequest): ModelConfig {
  let modelFormat = inherited?.modelFormat ?? '';
  let modelFamily = '';
  let modelType = '';
  let fileType = '';
  const families: string[] = [];
  let draft: ModelConfig['draft'];
  for (const { layer, facts } of layers) {
    if (facts === undefined) continue;
    if (layer.mediaType === MEDIA_TYPES.model) {
      modelFormat ||= 'gguf';
      modelFamily ||= facts.architecture;
      modelType ||= facts.modelType;
      fileType ||= facts.fileType;
      families.push(facts.architecture);
    } else if (layer.mediaType === MEDIA_TYPES.draft) {
      draft = { modelFormat: 'gguf', architecture: facts.architecture };
    }
  }
  const config: { -readonly [K in keyof ModelConfig]: ModelConfig[K] } = {
    modelFormat,
    modelFamily,
    modelFamilies: families.length > 0 ? families : null,
    modelType,
    fileType,
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diffIds: layers.map((s) => s.layer.digest) },
  };
  const renderer = request.renderer ?? inherited?.renderer;
  const parser = request.parser ?? inherited?.parser;
  const requires = request.requires ?? inherited?.requires;
  if (renderer) config.renderer = renderer;
  if (parser) config.parser = parser;
  if (requires) config.requires = requires;
  if (inherited?.capabilities?.length) config.capabilities = inherited.capabilities;
  if (draft !== undefined) config.draft = draft;
  return config;
}

/** A Modelfile parameter as api.FormatParams types it: float options are float32, ints int64. */
function paramValue(name: string, value: ParameterValue): ParamValue {
  if (Array.isArray(value)) return value;
  if (typeof value === 'number') return parameterKind(name) === 'float' ? goFloat32(value) : BigInt(value);
  return value;
}

/** setParameters: the new values, plus every key of the existing params layers that the Modelfile does not set. */
async function mergedParameters(store: ModelStore, layers: StagedLayer[], fresh: Record<string, ParameterValue> | undefined): Promise<Record<string, ParamValue>> {
  const params: Record<string, ParamValue> = {};
  for (const [key, value] of Object.entries(fresh ?? {})) params[key] = paramValue(key, value);
  for (const { layer } of layers) {
    if (layer.mediaType !== MEDIA_TYPES.params) continue;
    for (const [key, value] of Object.entries(decodeParamsBlob(await store.readBlob(layer.digest)))) {
      // Values read back from JSON are Go float64s (plain numbers), re-encoded as such.
      if (!Object.hasOwn(params, key)) params[key] = value;
    }
  }
  return params;
}

async function readSourceGguf(path: string, command: string, written: string, signal: AbortSignal | undefined): Promise<GgufInfo> {
  try {
    return await readGguf(path, signal === undefined ? {} : { signal });
  } catch (error) {
    if (error instanceof GgufError && error.code === 'ERR_GGUF_BAD_MAGIC') {
      throw new CreateError('ERR_CREATE_SOURCE', `supplied file was not in GGUF format: expected ${command} ${written} to be a GGUF file`, { path, cause: error });
    }
    throw error;
  }
}

/** A GGUF whose header has been read and checked, waiting to be imported (or quantized) into the store. */
interface SourcePlan {
  path: string;
  written: string;
  header: GgufInfo;
  facts: GgufFacts;
  mediaType: string;
  /** Quantize into the store instead of importing the bytes as they are. */
  quantize: boolean;
}

/** A Hugging Face safetensors folder (FROM ./dir), checked and waiting to be converted into the store. */
interface ConvertSource {
  dir: string;
  written: string;
  /** convertModel's outType: the -q file type, else f16 (as Ollama converts). */
  outType: string;
  architecture: string;
}

/** A PEFT or MLX adapter folder (ADAPTER ./dir), checked against the base and waiting to be converted. */
interface AdapterSource {
  dir: string;
  written: string;
  /** The base model the adapter was checked against and is converted for (a GGUF file or a safetensors folder). */
  base: string;
}

/** A layer that is ready (inherited from a model), a GGUF still to be brought in, or a folder to convert. */
type PendingLayer = { staged: StagedLayer } | { plan: SourcePlan } | { convert: ConvertSource } | { adapterDir: AdapterSource };

/**
 * createModel's quantize decision for a model layer: refused unless the model is F32/F16/BF16, skipped
 * when it already has the requested type.
 */
function wantsQuantize(ctx: Context, path: string, header: GgufInfo, mediaType: string): boolean {
  if (ctx.quantType === undefined || mediaType !== MEDIA_TYPES.model) return false;
  const sourceType = fileTypeOf(header);
  const sourceName = sourceType?.name ?? 'unknown';
  if (!QUANTIZABLE.has(sourceName)) {
    throw new CreateError('ERR_CREATE_QUANTIZE', `quantization is only supported for F16, BF16 and F32 models, and ${path} is ${sourceName}`, { path });
  }
  return sourceType?.id !== ctx.quantType.ftype;
}

/** Reads and checks a FROM/ADAPTER/DRAFT file: a single GGUF of the right kind. Nothing is stored yet. */
async function inspectSource(ctx: Context, source: ModelfileSource, command: 'FROM'): Promise<{ plan: SourcePlan } | { convert: ConvertSource }>;
async function inspectSource(ctx: Context, source: ModelfileSource, command: 'ADAPTER' | 'DRAFT'): Promise<{ plan: SourcePlan }>;
async function inspectSource(ctx: Context, source: ModelfileSource, command: 'FROM' | 'ADAPTER' | 'DRAFT'): Promise<{ plan: SourcePlan } | { convert: ConvertSource }> {
  ctx.signal?.throwIfAborted();
  if (source.kind === 'directory') {
    if (command !== 'FROM') {
      throw new CreateError('ERR_CREATE_SOURCE', `expected ${command} ${source.written} to be a GGUF file but it is a folder (convert the adapter with gguf-forge convert first)`, { path: source.path });
    }
    return { convert: inspectCheckpoint(ctx, source) };
  }
  const header = await readSourceGguf(source.path, command, source.written, ctx.signal);
  const facts = ggufFacts(header);
  if (facts.splitCount !== undefined) {
    throw new CreateError('ERR_CREATE_SOURCE', `${source.written} is one shard of a ${facts.splitCount}-part split GGUF, which gguf-forge cannot import yet (merge it with llama-gguf-split --merge)`, { path: source.path });
  }
  let mediaType = facts.mediaType;
  if (command === 'ADAPTER' && facts.kind !== 'adapter') {
    throw new CreateError('ERR_CREATE_ADAPTER', `expected ADAPTER ${source.written} to be a GGUF LoRA adapter (general.type = adapter) but its general.type is ${JSON.stringify(facts.kind)}`, { path: source.path });
  }
  if (command === 'DRAFT') mediaType = MEDIA_TYPES.draft;
  return { plan: { path: source.path, written: source.written, header, facts, mediaType, quantize: wantsQuantize(ctx, source.path, header, mediaType) } };
}

/**
 * Brings a checked GGUF into the store: quantized (see quantizeInto), or its bytes copied or linked and
 * hashed on the way. The layer's facts are then read from the stored blob itself, so they describe
 * exactly the bytes the manifest names.
 */
async function importSource(ctx: Context, plan: SourcePlan): Promise<StagedLayer> {
  const { store, signal } = ctx;
  if (plan.quantize) return quantizeInto(ctx, plan);
  const link = ctx.options.link === true;
  const importing = link ? 'linking file' : 'copying file';
  const blob = await store.putBlobFile(plan.path, {
    link,
    ...(signal === undefined ? {} : { signal }),
    onProgress: (p) => ctx.emit({ status: importing, total: p.total, completed: p.completed }),
  });
  ctx.emit({ status: `${importing} ${blob.digest} 100%`, digest: blob.digest });
  ctx.emit({ status: 'parsing GGUF' });
  const stored = ggufFacts(await readGguf(blob.path, signal === undefined ? {} : { signal }));
  ctx.ggufs.push({ source: plan.path, mediaType: plan.mediaType, digest: blob.digest, size: blob.size, method: blob.method });
  // Ollama ≤ v0.29 names the blob a GGUF layer was taken from (as-is) in `from`.
  const layer: Layer = { mediaType: plan.mediaType, digest: blob.digest, size: blob.size, from: blob.path };
  return { layer, status: layerStatus(blob), facts: stored };
}

/**
 * A safetensors folder for FROM: the whole conversion is planned (architecture, config, tokenizer,
 * every tensor) before anything is written, so an unsupported model fails with nothing stored.
 */
function inspectCheckpoint(ctx: Context, source: ModelfileSource): ConvertSource {
  const outType = ctx.quantType?.name ?? 'f16';
  try {
    const planned = planConversion(source.path, { outType });
    planned.checkpoint.close();
    return { dir: source.path, written: source.written, outType, architecture: planned.plan.arch };
  } catch (error) {
    throw new CreateError('ERR_CREATE_SOURCE', `FROM ${source.written}: ${(error as Error).message}`, { path: source.path, cause: error });
  }
}

/**
 * A GGUF that `write` makes in a temp file in blobs/ becomes the `mediaType` layer: its facts are read
 * back, then the file is adopted as its blob. The temp is removed when anything fails before that.
 */
async function stageWrittenGguf(
  ctx: Context,
  tempKind: string,
  imported: { source: string; mediaType: string; method: 'convert' | 'quantize' },
  write: (temp: string) => Promise<void>,
): Promise<StagedLayer> {
  const { store, signal } = ctx;
  const temp = await store.blobTempPath(tempKind);
  let adopted = false;
  try {
    await write(temp);
    const facts = ggufFacts(await readGguf(temp, signal === undefined ? {} : { signal }));
    const blob = await store.adoptBlobFile(temp, signal === undefined ? {} : { signal });
    adopted = true;
    ctx.ggufs.push({ source: imported.source, mediaType: imported.mediaType, digest: blob.digest, size: blob.size, method: imported.method });
    return { layer: { mediaType: imported.mediaType, digest: blob.digest, size: blob.size }, status: layerStatus(blob), facts };
  } finally {
    if (!adopted) await rm(temp, { force: true });
  }
}

/**
 * Ollama's convertFromSafetensors, in one pass: the folder is converted (and, with -q, quantized as
 * the F16 conversion then llama-quantize would give) into a temp file in blobs/ that becomes the blob.
 */
function convertInto(ctx: Context, source: ConvertSource): Promise<StagedLayer> {
  const { signal } = ctx;
  return stageWrittenGguf(ctx, 'convert', { source: source.dir, mediaType: MEDIA_TYPES.model, method: 'convert' }, async (temp) => {
    const label = ctx.quantType ? `quantizing F16 model to ${(ctx.options.quantize as string).toUpperCase()}` : 'converting model';
    ctx.emit({ status: 'converting model' });
    await convertModel(source.dir, temp, {
      outType: source.outType,
      ...(ctx.options.threads === undefined ? {} : { threads: ctx.options.threads }),
      ...(signal === undefined ? {} : { signal }),
      onProgress: (p) => ctx.emit({ status: label, total: p.bytesTotal, completed: p.bytesWritten }),
    });
    if (ctx.quantType) ctx.emit({ status: label });
    ctx.emit({ status: 'verifying conversion' });
  });
}

/** Ollama's adapter conversion: a PEFT/MLX folder becomes a GGUF LoRA in a temp file in blobs/, then the adapter blob. */
function convertAdapterInto(ctx: Context, source: AdapterSource): Promise<StagedLayer> {
  const { signal } = ctx;
  return stageWrittenGguf(ctx, 'adapter', { source: source.dir, mediaType: MEDIA_TYPES.adapter, method: 'convert' }, async (temp) => {
    ctx.emit({ status: 'converting adapter' });
    await convertAdapter(source.dir, temp, { base: source.base, ...(signal === undefined ? {} : { signal }) });
  });
}

/**
 * createModel's quantize step: the model is quantized from its source straight into a temp file in
 * blobs/ that then becomes the blob (the unquantized source is never stored).
 */
function quantizeInto(ctx: Context, plan: SourcePlan): Promise<StagedLayer> {
  const { signal } = ctx;
  const target = ctx.quantType as FileTypeInfo;
  const label = `quantizing ${fileTypeOf(plan.header)?.name ?? 'unknown'} model to ${(ctx.options.quantize as string).toUpperCase()}`;
  ctx.emit({ status: 'parsing GGUF' });
  return stageWrittenGguf(ctx, 'quantize', { source: plan.path, mediaType: plan.mediaType, method: 'quantize' }, async (temp) => {
    let total = plan.header.fileSize;
    await quantizeModel(plan.path, temp, target.name, {
      ...(ctx.options.threads === undefined ? {} : { threads: ctx.options.threads }),
      ...(signal === undefined ? {} : { signal }),
      onProgress: (p) => {
        total = p.bytesTotal;
        ctx.emit({ status: label, total: p.bytesTotal, completed: p.bytesWritten });
      },
    });
    ctx.emit({ status: label, total, completed: total });
    // The step's line once done (a sized report draws a bar; this one is what a log keeps).
    ctx.emit({ status: label });
    ctx.emit({ status: 'verifying conversion' });
  });
}

/** parseFromModel: every layer of an existing model, reused over its blob with `from` = its short name. */
async function layersOfModel(ctx: Context, from: string): Promise<{ layers: PendingLayer[]; config: ModelConfig | undefined }> {
  const { store, signal } = ctx;
  let stored;
  try {
    stored = await store.readManifest(from);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_STORE_NOT_FOUND') throw error;
    const pullOption = ctx.options.pull ?? true;
    if (pullOption === false) {
      throw new CreateError('ERR_CREATE_FROM_MODEL', `FROM ${from}: no such model in ${store.root} (pulling is turned off); give a GGUF path or create or pull that model first`, { model: from, cause: error });
    }
    // Ollama's create pulls a FROM model it does not have, then builds on it.
    try {
      await pull(from, {
        ...(pullOption === true ? {} : pullOption),
        store,
        ...(ctx.options.env === undefined ? {} : { env: ctx.options.env }),
        ...(signal === undefined ? {} : { signal }),
        onProgress: (p) => ctx.emit({ status: p.status, ...(p.digest === undefined ? {} : { digest: p.digest }), ...(p.total === undefined ? {} : { total: p.total }), ...(p.completed === undefined ? {} : { completed: p.completed }) }),
      });
      stored = await store.readManifest(from);
    } catch (pullError) {
      if (signal?.aborted) throw pullError;
      throw new CreateError('ERR_CREATE_FROM_MODEL', `FROM ${from}: no such model in ${store.root}, and pulling it failed: ${(pullError as Error).message}`, { model: from, cause: pullError });
    }
  }
  const fromName = displayShortest(stored.name);
  let config: ModelConfig | undefined;
  try {
    config = decodeConfigBlob(await store.readBlob(stored.manifest.config.digest));
  } catch {
    config = undefined; // Ollama inherits from the config only when it decodes
  }
  const layers: PendingLayer[] = [];
  for (const source of stored.manifest.layers) {
    signal?.throwIfAborted();
    const layer = await store.layerFromBlob(source.digest, source.mediaType, { from: fromName, ...(source.name === undefined ? {} : { name: source.name }) });
    const staged: StagedLayer = { layer, status: `using existing layer ${layer.digest}` };
    if (GGUF_MEDIA_TYPES.has(layer.mediaType)) {
      const path = store.blobPath(layer.digest);
      const header = await readGguf(path, signal === undefined ? {} : { signal });
      staged.facts = ggufFacts(header);
      if (wantsQuantize(ctx, path, header, layer.mediaType)) {
        layers.push({ plan: { path, written: `${fromName} (${layer.digest})`, header, facts: staged.facts, mediaType: layer.mediaType, quantize: true } });
        continue;
      }
      ctx.ggufs.push({ source: path, mediaType: layer.mediaType, digest: layer.digest, size: layer.size, method: 'existing' });
    }
    layers.push({ staged });
  }
  return { layers, config };
}
