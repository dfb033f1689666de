/** Tokenisation, chat templates and batching: the public surface of this folder. */
export { loadTokenizer, type RrhfTokenizer, type SpecialTokenIds, type SpecialTokenStrings } from "./tokenizer.js";
export { encodeRecord, encodeRecords, type EncodeOptions, type EncodedRecord, type EncodedResponse, type CompatMode } from "./encode.js";
export { collate, IGNORE_INDEX, type RrhfBatch, type CollateOptions } from "./collate.js";
export { selectResponses, selectBatchRows, type ResponseSelection } from "./select.js";
export { renderChatQuery, type ChatMessage, type RenderedQuery } from "./chat-template.js";
export type { TruncationReport } from "./report.js";
