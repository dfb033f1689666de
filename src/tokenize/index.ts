/** Tokenisation, chat templates and batching: the public surface of this folder. */
export { loadTokenizer, createTokenizer, type RrhfTokenizer, type SpecialTokenIds, type SpecialTokenStrings } from "./tokenizer.js";
export { encodeRecord, encodeRecords, type EncodeOptions, type EncodedRecord, type EncodedResponse, type CompatMode } from "./encode.js";
export { collate, IGNORE_INDEX, type RrhfBatch, type CollateOptions } from "./collate.js";
export { selectResponses, selectBatchRows, checkSameK, type ResponseSelection } from "./select.js";
export { renderChatQuery, queryToMessages, hhToMessages, isHhTranscript, type ChatMessage, type RenderedQuery } from "./chat-template.js";
export { formatTruncationReport, mergeReports, emptyReport, type TruncationReport } from "./report.js";
export { DEFAULT_MAX_QUERY_SHARE } from "./truncate.js";
export { COMPAT_MODES } from "./encode.js";
export { clampModelMaxLength, TOKENIZE_SETTINGS, type TokenizeSettings } from "./settings.js";
