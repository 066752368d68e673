// The dashboard's pages as HTML, without a server: what they show, and that request or run data never
// becomes markup.
import { runsPage } from '../../src/dashboard/views/runs';
import { failuresPage } from '../../src/dashboard/views/failures';
import type { PageContext } from '../../src/dashboard/views/layout';
import type { RunRow } from '../../src/dashboard/data';

const ctx = (over: Partial<PageContext> = {}): PageContext => ({
  base: '/tju',
  readOnly: false,
  signedIn: true,
  csrf: 'c5rf',
  codec: 'none',
  ...over,
});
const render = async (page: unknown) => String(await page).replace(/\s+/g, ' ');

const row = (over: Partial<RunRow> = {}): RunRow => ({
  id: '7',
  batch: 'shop.process-orders',
  runKey: '2026-11-01',
  workflowId: 'shop.process-orders/2026-11-01',
  executionId: 'e1',
  traceId: null,
  kind: 'run',
  params: { date: '2026-11-01' },
  state: 'completed',
  startedAt: new Date('2026-11-01T02:00:00Z'),
  finishedAt: new Date('2026-11-01T02:10:00Z'),
  counts: { total: 41, succeeded: 40, failed: 1, skipped: 0, steps: { receipt: { succeeded: 41 }, points: { succeeded: 40, failed: 1 } } },
  reason: null,
  problem: null,
  cursor: 'x',
  ...over,
});

it('shows a chain run with its counts per step, under the mount path', async () => {
  const html = await render(
    runsPage(ctx(), { rows: [row()], live: new Map(), expected: new Map(), batches: ['shop.process-orders'], filter: {} }),
  );
  expect(html).toContain('receipt 41 ✓ · points 40 ✓ 1 ✗');
  expect(html).toContain('href="/tju/runs/7"');
  expect(html).toContain('aria-valuenow="41"');
});

it('escapes run keys, problems, filters and failure groups, whatever they hold', async () => {
  const hostile = `<script>alert(1)</script>"'&`;
  const runs = await render(
    runsPage(ctx(), {
      rows: [row({ runKey: hostile, problem: hostile })],
      live: new Map(),
      expected: new Map(),
      batches: [hostile],
      filter: { batch: hostile },
    }),
  );
  expect(runs).not.toContain('<script>alert');
  expect(runs).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
  const failures = await render(
    failuresPage(ctx(), {
      id: '7',
      batch: 'b',
      runKey: hostile,
      params: { date: hostile },
      finished: true,
      groups: [
        {
          group: `Error: ${hostile}`,
          unit: 'u',
          count: 1,
          firstSeen: new Date(),
          lastSeen: new Date(),
          samples: [{ targetKey: hostile, error: hostile, attempts: 1, target: { key: hostile, note: hostile } }],
        },
      ],
    }),
  );
  expect(failures).not.toContain('<script>alert');
  // The group and its step go back as form values, escaped, so the button retries exactly this group.
  expect(failures).toContain('name="group" value="Error: &lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"');
  expect(failures).toContain('name="unit" value="u"');
  // The CLI hint is shell-quoted: pasted, it names the same group (a quote inside closes and reopens).
  expect(failures).toContain(`--group &#39;Error: &lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;\\&#39;&#39;&amp;&#39; --step u`);
});

it('renders every button disabled on a read-only dashboard, and enabled only when signed in', async () => {
  const page = (c: PageContext) =>
    render(
      failuresPage(c, {
        id: '7',
        batch: 'b',
        runKey: 'k',
        params: {},
        finished: true,
        groups: [{ group: 'Error: x', unit: 'u', count: 1, firstSeen: new Date(), lastSeen: new Date(), samples: [] }],
      }),
    );
  const buttons = (html: string) => html.match(/<button[^>]*>/g)!.filter((b) => !b.includes('Timeline') && !/sign out/.test(b));
  for (const html of [await page(ctx({ readOnly: true, signedIn: false })), await page(ctx({ signedIn: false }))]) {
    const found = html.match(/<button[^>]*>(Retry|Clear) this group/g) ?? [];
    expect(found).toHaveLength(2);
    expect(found.every((b) => b.includes('disabled'))).toBe(true);
  }
  const signedIn = await page(ctx());
  expect((signedIn.match(/<button[^>]*>(Retry|Clear) this group/g) ?? []).some((b) => b.includes('disabled'))).toBe(false);
  expect(buttons(signedIn).length).toBeGreaterThan(0);
});
