/** Tokenisation, chat templates and batching: the public surface of this folder. */
export { loadTokenizer, type RrhfTokenizer, type SpecialTokenIds, type SpecialTokenStrings } from "./tokenizer.js";
export { encodeRecord, encodeRecords, type EncodeOptions, type EncodedRecord, type EncodedResponse, type CompatMode } from "./encode.js";
export { collate, type CollateOptions } from "./collate.js";
export {
  buildQueryBatch,
  IGNORE_INDEX,
  paddedRows,
  type BuildBatchOptions,
  type PaddedRows,
  type QueryBatch,
  type QueryGroup,
} from "./batch.js";
export { selectResponses, selectBatchRows, type ResponseSelection } from "./select.js";
export { renderChatQuery, renderChatMessages, type ChatMessage, type RenderedQuery } from "./chat-template.js";
export type { TruncationReport } from "./report.js";
export { COMPAT_MODES } from "./encode.js";
export { TOKENIZE_SETTINGS, type TokenizeSettings } from "./settings.js";
export { encodeSftRecord, type SftEncodeOptions } from "./sft-encode.js";
