// The model runtime's public face: loadModels and the types its callers use.
export * from './types.js';
export { loadModels, type LoadedModels, type LoadModelsOptions } from './load-models.js';
export { loadManifest, modelKey, type InputSpec, type LoadedManifest, type Manifest } from './manifest.js';
export { toTensor, validateRegion, type ResizeMethod } from './preprocess.js';
export type { ExecutionProvider } from './session.js';
