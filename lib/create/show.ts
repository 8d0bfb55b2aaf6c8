// `ollama show` without a server: what a stored model is (server/routes.go GetModelInfo) — details
// from its config blob, model_info from its model GGUF's header, template/system/license/params/
// messages from their layers, and the Modelfile `show --modelfile` prints.
import { readGguf } from '../gguf/ggufInfo.js';
import { formatModelfile, modelfileForShow } from '../modelfile/format.js';
import { decodeConfigBlob, decodeMessagesBlob, decodeParamsBlob, type ModelConfig, type ModelMessage } from '../store/configBlob.js';
import { MEDIA_TYPES, type Manifest } from '../store/manifest.js';
import { displayShortest, type ModelName } from '../store/names.js';
import type { ModelStore } from '../store/store.js';
import { CreateError } from './errors.js';
import { ggufFacts, modelInfoValue } from './ggufFacts.js';
import { humanNumber } from './ollamaFormat.js';

/** api.ModelDetails. */
export interface ModelDetails {
  /** The `from` of the model layer (the model it was created from, or the blob a GGUF was imported from). */
  parentModel: string;
  format: string;
  family: string;
  families: string[] | null;
  parameterSize: string;
  quantizationLevel: string;
}

export interface ModelShow {
  name: ModelName;
  /** `tiny:latest`. */
  model: string;
  /** sha256 hex of the manifest bytes. */
  digest: string;
  modifiedAt: Date;
  manifest: Manifest;
  /** undefined when the config blob is missing or not JSON. */
  config: ModelConfig | undefined;
  details: ModelDetails;
  /** The `Model` block of `ollama show`. */
  architecture: string;
  parameters: string;
  contextLength: number | undefined;
  embeddingLength: number | undefined;
  quantization: string;
  /** The model GGUF's metadata as /api/show's model_info (arrays of more than 1024 items as null), with general.parameter_count. */
  modelInfo: Record<string, unknown> | undefined;
  modelPath: string | undefined;
  adapterPaths: string[];
  projectorPaths: string[];
  draftPath: string | undefined;
  template: string | undefined;
  system: string | undefined;
  license: string[];
  /** The params blob, decoded as Go's map[string]any (numbers are float64). */
  options: Record<string, unknown>;
  messages: ModelMessage[];
  /** What `ollama show --modelfile` prints. */
  modelfile: string;
}

/** fmt's %#v of a value decoded from JSON (what `ollama show` prints in its Parameters block). */
export function goSyntax(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  if (typeof value === 'number') {
    // strconv.FormatFloat(v, 'g', -1, 64): shortest digits, an exponent when it is < -4 or >= 6 (1e+06).
    if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
    const [mantissa, exp] = value.toExponential().split('e') as [string, string];
    const e = Number(exp);
    if (value !== 0 && (e < -4 || e >= 6)) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (value === null) return '<nil>';
  return JSON.stringify(value);
}

/** GetModelInfo for `name` (case-insensitive, like Ollama); ERR_STORE_NOT_FOUND when there is no such model. */
export async function showModel(store: ModelStore, name: string | ModelName): Promise<ModelShow> {
  const stored = await store.readManifest(name);
  const { manifest } = stored;
  const text = async (digest: string) => (await store.readBlob(digest)).toString('utf8');

  let config: ModelConfig | undefined;
  try {
    config = decodeConfigBlob(await store.readBlob(manifest.config.digest));
  } catch {
    config = undefined;
  }

  let modelPath: string | undefined;
  let parentModel = '';
  const adapterPaths: string[] = [];
  const projectorPaths: string[] = [];
  let draftPath: string | undefined;
  let template: string | undefined;
  let system: string | undefined;
  const license: string[] = [];
  let options: Record<string, unknown> = {};
  let messages: ModelMessage[] = [];
  for (const layer of manifest.layers) {
    switch (layer.mediaType) {
      case MEDIA_TYPES.model:
        modelPath = store.blobPath(layer.digest);
        parentModel = layer.from ?? '';
        break;
      case MEDIA_TYPES.adapter:
        adapterPaths.push(store.blobPath(layer.digest));
        break;
      case MEDIA_TYPES.projector:
        projectorPaths.push(store.blobPath(layer.digest));
        break;
      case MEDIA_TYPES.draft:
        draftPath = store.blobPath(layer.digest);
        break;
      case MEDIA_TYPES.template:
      case MEDIA_TYPES.prompt:
        template = await text(layer.digest);
        break;
      case MEDIA_TYPES.system:
        system = await text(layer.digest);
        break;
      case MEDIA_TYPES.license:
        license.push(await text(layer.digest));
        break;
      case MEDIA_TYPES.params:
        options = decodeParamsBlob(await store.readBlob(layer.digest));
        break;
      case MEDIA_TYPES.messages:
        messages = decodeMessagesBlob(await store.readBlob(layer.digest));
        break;
    }
  }

  let modelInfo: Record<string, unknown> | undefined;
  let contextLength: number | undefined;
  let embeddingLength: number | undefined;
  let architecture = config?.modelFamily ?? '';
  let parameterCount: number | undefined;
  if (modelPath !== undefined) {
    const header = await readGguf(modelPath);
    const facts = ggufFacts(header);
    modelInfo = {};
    for (const entry of header.metadata) modelInfo[entry.key] = modelInfoValue(entry);
    modelInfo['general.parameter_count'] = facts.parameterCount;
    architecture = facts.architecture || architecture;
    contextLength = facts.contextLength;
    embeddingLength = facts.embeddingLength;
    parameterCount = facts.parameterCount;
  } else if (config === undefined) {
    throw new CreateError('ERR_CREATE_NO_MODEL', `${displayShortest(stored.name)} has neither a model layer nor a config blob to describe`, { model: displayShortest(stored.name) });
  }

  const details: ModelDetails = {
    parentModel,
    format: config?.modelFormat ?? '',
    family: config?.modelFamily ?? '',
    families: config?.modelFamilies === undefined || config.modelFamilies === null ? null : [...config.modelFamilies],
    parameterSize: config?.modelType ?? '',
    quantizationLevel: config?.fileType ?? '',
  };

  const showInput = {
    modelPath: modelPath ?? '',
    adapterPaths,
    projectorPaths,
    ...(draftPath === undefined ? {} : { draftPath }),
    ...(template === undefined ? {} : { template }),
    ...(system === undefined ? {} : { system }),
    ...(config?.renderer === undefined ? {} : { renderer: config.renderer }),
    ...(config?.parser === undefined ? {} : { parser: config.parser }),
    parameters: options,
    license,
    messages,
  };
  const shown = modelfileForShow(showInput);
  let modelfile: string;
  try {
    modelfile = formatModelfile(shown, { generatedFrom: displayShortest(stored.name) });
  } catch {
    // A value no Modelfile spelling reads back: print it the way Ollama does anyway.
    modelfile = formatModelfile(shown, { generatedFrom: displayShortest(stored.name), strict: false });
  }

  return {
    name: stored.name,
    model: displayShortest(stored.name),
    digest: stored.digest,
    modifiedAt: stored.modifiedAt,
    manifest,
    config,
    details,
    architecture,
    // The CLI prints details.parameter_size, else the GGUF's count (cmd.go showInfo).
    parameters: details.parameterSize || (parameterCount === undefined ? '' : humanNumber(parameterCount)),
    contextLength,
    embeddingLength,
    quantization: details.quantizationLevel,
    modelInfo,
    modelPath,
    adapterPaths,
    projectorPaths,
    draftPath,
    template,
    system,
    license,
    options,
    messages,
    modelfile,
  };
}

/** The parameters text of /api/show: `%-30s %#v` per value, one line per list element; keys sorted (Ollama's order is Go's random map order). */
export function parametersText(options: Readonly<Record<string, unknown>>): string {
  const lines: string[] = [];
  for (const key of Object.keys(options).sort()) {
    const value = options[key];
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${key.padEnd(30)} ${goSyntax(item)}`);
  }
  return lines.join('\n');
}

/** The JSON `ollama show --json`-style document (api.ShowResponse's field names). */
export function showJson(shown: ModelShow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    model: shown.model,
    digest: shown.digest,
    modelfile: shown.modelfile,
    parameters: parametersText(shown.options),
    template: shown.template ?? '',
    details: {
      parent_model: shown.details.parentModel,
      format: shown.details.format,
      family: shown.details.family,
      families: shown.details.families,
      parameter_size: shown.details.parameterSize,
      quantization_level: shown.details.quantizationLevel,
    },
    model_info: shown.modelInfo ?? null,
    modified_at: shown.modifiedAt.toISOString(),
  };
  if (shown.system !== undefined) out.system = shown.system;
  if (shown.license.length > 0) out.license = shown.license.join('\n');
  if (shown.messages.length > 0) out.messages = shown.messages;
  return out;
}
