// Hugging Face llama-family folders (llama, mistral, granite, qwen2) to GGUF: see convert.ts for the streaming,
// plan.ts for the checks and choices made before any data is read.
export { convertHfToGguf, writePlan, type ConvertOptions, type ConvertProgress, type ConvertResult } from './convert';
export { ConvertError } from './errors';
export { ggufArchitectures, hparamsMetadata, llama3RopeFactors, needsRopePermutation, type GgufArchitecture } from './hparams';
export { permuteRopeRows } from './permute';
export { planConversion, type ConversionPlan, type PlannedTensor } from './plan';
export { ggufTensorName, isIgnoredTensor } from './tensorNames';
export { preTokenizerName, TokenType, vocabMetadata } from './vocab';
