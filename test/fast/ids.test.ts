// Workflow IDs: no target key — whatever string a target query returns — names another workflow of the run.
import {
  chunkWorkflowId,
  idSegment,
  jobWorkflowId,
  MAX_SEGMENT_BYTES,
  partitionWorkflowId,
  retryWorkflowId,
  searchValue,
  triggerWorkflowId,
} from '../../src/contracts/ids';

const long = 'x'.repeat(1500);
/** Keys chosen to look like tju's own IDs, to need escaping, or to be too long for an ID. */
const hostile = [
  'p0',
  'p1',
  '~p0',
  'retry',
  '~retry',
  'chunk',
  '~chunk',
  'chunk/1-5',
  '~chunk/1/1..5',
  '1..5',
  '1-5',
  'a/b',
  'a%2Fb',
  'a%252Fb',
  '%',
  '%2',
  '/',
  '//',
  '~',
  ' ',
  'with space',
  'tab\there',
  'new\nline',
  '',
  '日本語',
  'キー/スラッシュ',
  '🙂',
  '\u0000',
  '\u200b',
  'x',
  long,
  `${long}y`,
  `${'界'.repeat(400)}`,
  `${idSegment(long)}`,
];

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

it('gives every key its own job ID, none equal to a trigger, partition, retry or chunk ID of the run', () => {
  const batch = 'test.things';
  const runKey = '2026-11-01';
  const trigger = triggerWorkflowId(batch, runKey);
  const jobs = hostile.map((key) => jobWorkflowId(batch, runKey, key));
  expect(new Set(jobs).size).toBe(hostile.length);
  const own = [
    trigger,
    retryWorkflowId(batch, runKey),
    ...[0, 1, 2, 10].map((i) => partitionWorkflowId(trigger, i)),
    ...[0, 1].flatMap((i) => hostile.map((key) => chunkWorkflowId(partitionWorkflowId(trigger, i), 3, key, key))),
    ...hostile.map((key) => chunkWorkflowId(trigger, 1, key, 'z')),
  ];
  for (const job of jobs) expect(own).not.toContain(job);
  // A job ID is the trigger's, one slash, and a segment that never starts with tju's `~`.
  for (const job of jobs) {
    expect(job.startsWith(`${trigger}/`)).toBe(true);
    const segment = job.slice(trigger.length + 1);
    expect(segment).not.toContain('/');
    expect(segment.startsWith('~')).toBe(false);
  }
});

it("keeps run keys apart too: a run key with a slash does not name another run's job", () => {
  expect(triggerWorkflowId('b', 'x/retry')).not.toBe(retryWorkflowId('b', 'x'));
  expect(triggerWorkflowId('b', 'x/y')).not.toBe(jobWorkflowId('b', 'x', 'y'));
  expect(jobWorkflowId('b', 'x/y', 'z')).not.toBe(jobWorkflowId('b', 'x', 'y/z'));
});

it('keeps plain keys readable and bounds every segment, hashing what is too long', () => {
  expect(jobWorkflowId('billing.issue-invoices', '2026-11-01', '199')).toBe('billing.issue-invoices/2026-11-01/199');
  expect(idSegment('日本語')).toBe('日本語');
  expect(idSegment('a/b c')).toBe('a%2Fb%20c');
  for (const key of hostile) expect(utf8Bytes(idSegment(key))).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
  expect(idSegment(long)).not.toBe(idSegment(`${long}y`));
  expect(idSegment(long)).toMatch(/^x+~[0-9a-f]{32}$/);
  // A chunk of two of the longest keys, under a partition, still fits Temporal's 1,000-byte IDs.
  const deepest = chunkWorkflowId(partitionWorkflowId(triggerWorkflowId('a'.repeat(100), long), 99), 1_000_000, long, `${long}y`);
  expect(utf8Bytes(deepest)).toBeLessThan(1000);
  expect(searchValue('199')).toBe('199');
  expect(utf8Bytes(searchValue(long))).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
});
