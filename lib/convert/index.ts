// The convert module's public surface (the lead wires it into lib/index.ts).
export { ConvertError } from './errors.js';
export { convertModel, planConversion, CONVERT_OUT_TYPES } from './convertModel.js';
export type { ConvertModelOptions, ConvertModelResult, ConvertProgress, ConvertedTensor } from './convertModel.js';
export { SUPPORTED_ARCHITECTURES } from './architectures.js';
export { llama3RopeFactors } from './llama.js';
export { encodeSentencePieceModel, parseSentencePieceModel, readSentencePieceModel, PieceType, type SentencePiece } from './tokenizer/sentencepiece.js';
export { BpeTokenizer, bytesToUnicode, type BpeTokenizerSpec } from './tokenizer/bpe.js';
export { loadBpeSpec } from './tokenizer/hfFiles.js';
export { preTokenizerHash } from './tokenizer/vocab.js';
export { CHKTXT, PRE_TOKENIZER_HASHES, preTokenizerForHash } from './tokenizer/preTokenizerHashes.js';
