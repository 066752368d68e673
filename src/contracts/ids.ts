import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';

// Deterministic IDs: Temporal refuses a second running workflow with the same ID, so one run of a batch and
// one job per target and run cannot run twice at once. The scheme is unambiguous: a run key or target key
// is one ID segment whatever it holds (`/` is escaped), and tju's own workflows below a run use segments that
// start with `~`, which an escaped key never does. So no key can name another workflow.
//
//   <batch>/<runKey>                          the run's trigger
//   <batch>/<runKey>/<targetKey>              a per-target job
//   <batch>/<runKey>/~retry                   a retry of the run's failures
//   <trigger>/~p<i>                           a partition's trigger
//   <trigger>/~chunk/<n>/<first>..<last>      the n-th chunk job a trigger started

/** The most bytes of one key in an ID; a longer key keeps a prefix and a hash of the whole (Temporal's IDs stop at 1,000). */
export const MAX_SEGMENT_BYTES = 200;
const PREFIX_BYTES = 150;

// Escaped: the escape itself, the separator, tju's marker, and anything invisible or blank in a CLI or the UI.
const ESCAPED = /[%/~\s\p{C}]/u;

/** One ID segment for a key: readable when the key is, and never equal to another key's or to a `~` segment. */
export function idSegment(key: string): string {
  let escaped = '';
  for (const char of key) escaped += ESCAPED.test(char) ? percentEncode(char) : char;
  if (utf8Length(escaped) <= MAX_SEGMENT_BYTES) return escaped;
  // `~` is escaped in keys, so a hashed segment can be nothing but this key's.
  return `${truncateUtf8(escaped, PREFIX_BYTES)}~${bytesToHex(sha256(utf8(key))).slice(0, 32)}`;
}

/** A search attribute value for a key: the key itself unless it is too long for one (then its ID segment). */
export const searchValue = (key: string): string => (utf8Length(key) <= MAX_SEGMENT_BYTES ? key : idSegment(key));

export const triggerWorkflowId = (batch: string, runKey: string): string => `${batch}/${idSegment(runKey)}`;
export const jobWorkflowId = (batch: string, runKey: string, targetKey: string): string =>
  `${triggerWorkflowId(batch, runKey)}/${idSegment(targetKey)}`;
/** A retry of a run's failed targets runs beside the run, under its own ID. */
export const retryWorkflowId = (batch: string, runKey: string): string => `${triggerWorkflowId(batch, runKey)}/~retry`;
export const partitionWorkflowId = (triggerId: string, index: number): string => `${triggerId}/~p${index}`;
/** `n` counts a trigger's chunks across continue-as-new; the keys only help a person find a chunk. */
export const chunkWorkflowId = (triggerId: string, n: number, firstKey: string, lastKey: string): string =>
  `${triggerId}/~chunk/${n}/${idSegment(firstKey)}..${idSegment(lastKey)}`;

/** The task queue of a rate-limited unit's activities: its own, so the queue's rate limit is the unit's. */
export const unitTaskQueue = (jobQueue: string, unit: string): string => `${jobQueue}.${unit}`;

/** Custom search attributes on every tju workflow, so `temporal workflow list --query` and the UI can filter. */
export const searchAttributes = {
  batch: defineSearchAttributeKey('TjuBatch', SearchAttributeType.KEYWORD),
  runKey: defineSearchAttributeKey('TjuRunKey', SearchAttributeType.KEYWORD),
  targetKey: defineSearchAttributeKey('TjuTargetKey', SearchAttributeType.KEYWORD),
};

/** A string in a visibility query (`TjuRunKey = ...`): quoted, with its backslashes and quotes escaped. */
export const visibilityLiteral = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The search attributes every workflow of a run carries. */
export const runSearchAttributes = (batch: string, runKey: string) => [
  { key: searchAttributes.batch, value: batch },
  { key: searchAttributes.runKey, value: searchValue(runKey) },
];

/** Plain code, no TextEncoder: this module runs in the workflow sandbox too. */
function utf8(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const char of text) bytes.push(...codePointBytes(char.codePointAt(0)!));
  return Uint8Array.from(bytes);
}

function codePointBytes(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

const percentEncode = (char: string): string =>
  codePointBytes(char.codePointAt(0)!)
    .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');

const utf8Length = (text: string): number => {
  let n = 0;
  for (const char of text) n += codePointBytes(char.codePointAt(0)!).length;
  return n;
};

/** The longest prefix of `text` within `max` bytes that does not split a character or an escape. */
function truncateUtf8(text: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = codePointBytes(char.codePointAt(0)!).length;
    if (bytes + size > max) break;
    out += char;
    bytes += size;
  }
  return out.replace(/%[0-9A-F]?$/, '');
}
