// The LoRA module's public surface (the lead wires it into lib/index.ts).
export { LoraError } from './errors.js';
export { detectAdapterDirectory, readAdapterDirectory, type AdapterDirectory, type AdapterFormat, type AdapterModule } from './adapterDirectory.js';
export { readBaseModel, type BaseModelInfo } from './baseModel.js';
export { ADAPTER_ARCHITECTURES, adapterFromDirectory, adapterFromGguf, type AdapterTensors, type LoraTensorPair } from './adapterTensors.js';
export { architecturesFromName, type AdapterCheckOptions } from './baseModelName.js';
export { checkAdapterAgainstBase, openAdapter, type AdapterCheck } from './check.js';
export { ADAPTER_OUT_TYPES, convertAdapter, isAdapterDirectory, type ConvertAdapterOptions, type ConvertAdapterProgress, type ConvertAdapterResult } from './convertAdapter.js';
export { loraScale, mergeLora, type MergeLoraOptions, type MergeLoraProgress, type MergeLoraResult } from './merge.js';
