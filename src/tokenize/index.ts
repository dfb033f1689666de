/** Tokenisation, chat templates and batching: the public surface of this folder. */
export { loadTokenizer, createTokenizer, type RrhfTokenizer, type SpecialTokenIds, type SpecialTokenStrings } from "./tokenizer.js";
export { encodeRecord, encodeRecords, type EncodeOptions, type EncodedRecord, type EncodedResponse, type CompatMode } from "./encode.js";
export { collate, type CollateOptions } from "./collate.js";
export {
  buildQueryBatch,
  IGNORE_INDEX,
  paddedRows,
  queryLength,
  responseLength,
  rowLength,
  rowTokens,
  selectRows,
  type BuildBatchOptions,
  type PaddedRows,
  type QueryBatch,
  type QueryGroup,
} from "./batch.js";
export { selectResponses, selectBatchRows, checkSameK, type ResponseSelection } from "./select.js";
export { renderChatQuery, renderChatMessages, queryToMessages, hhToMessages, isHhTranscript, type ChatMessage, type RenderedQuery } from "./chat-template.js";
export { formatTruncationReport, mergeReports, emptyReport, type TruncationReport } from "./report.js";
export { DEFAULT_MAX_QUERY_SHARE } from "./truncate.js";
