// The create module's public surface: `ollama create` (and show) without a server.
export { create } from './create.js';
export type { CreateOptions, CreateProgress, CreateResult, ImportedGguf } from './create.js';
export { CreateError } from './errors.js';
export { showModel, showJson, parametersText } from './show.js';
export type { ModelShow, ModelDetails } from './show.js';
export { ggufFacts, type GgufFacts } from './ggufFacts.js';
export { humanNumber, humanBytes, humanTime, ollamaFileTypeName } from './ollamaFormat.js';
