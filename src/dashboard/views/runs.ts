import { html } from 'hono/html';
import type { RunFilter, RunRow } from '../data';
import type { Live } from '../live';
import type { RunSummary, StepCounts } from '../../contracts/types';
import { duration, finished, number, pace, when } from './format';
import { layout, stateBadge, type Html, type PageContext } from './layout';

export const RUN_STATES = ['running', 'paused', 'completed', 'failed', 'cancelled'] as const;

/** A progress bar of succeeded / failed / skipped against the total known (or expected). */
export function progressBar(counts: RunSummary, expected?: number): Html {
  const total = Math.max(expected ?? 0, counts.total, finished(counts), 1);
  const pct = (n: number) => `${((100 * n) / total).toFixed(2)}%`;
  return html`<div
    class="bar"
    role="progressbar"
    aria-valuenow="${finished(counts)}"
    aria-valuemax="${total}"
    title="${number(finished(counts))} of ${number(total)}"
  >
    <i class="s" style="width:${pct(counts.succeeded)}"></i><i class="f" style="width:${pct(counts.failed)}"></i
    ><i class="k" style="width:${pct(counts.skipped)}"></i>
  </div>`;
}

/** The counts a row shows: live ones while it runs (when a worker answered), else what the history recorded. */
export const countsOf = (row: RunRow, live?: Live): RunSummary | undefined => live?.progress ?? row.counts ?? undefined;

export function paceCell(row: RunRow, counts: RunSummary | undefined, expected?: { total: number; estimated: boolean }): Html {
  if (!counts) return html``;
  const end = row.finishedAt ?? new Date();
  const p = pace(counts, row.startedAt, end, row.finishedAt ? undefined : expected?.total);
  return html`${p.perSecond.toFixed(1)}/s${
    p.etaMs !== undefined ? html`<br /><span class="muted">${expected?.estimated ? '≈' : ''}${duration(p.etaMs)} left</span>` : ''
  }`;
}

/** A chain's counts per step, in one small line: `receipt 40 ✓ 1 ✗ · points 39 ✓`. */
export const stepLine = (steps: StepCounts): Html =>
  html`<div class="muted steps">
    ${Object.entries(steps).map(
      ([unit, c], i) =>
        html`${i ? ' · ' : ''}${unit} ${c.succeeded ?? 0}
        ✓${c.skipped ? html` ${c.skipped} skipped` : ''}${c.failed ? html` ${c.failed} ✗` : ''}`,
    )}
  </div>`;

export interface RunsPage {
  rows: RunRow[];
  live: Map<RunRow, Live>;
  /** Per batch, the total of its last completed run: the estimate of a running run's size. */
  expected: Map<string, number>;
  batches: string[];
  filter: RunFilter;
  next?: string;
}

export function runsPage(ctx: PageContext, page: RunsPage): Html {
  const b = ctx.base;
  const f = page.filter;
  // The first page keeps itself fresh (a run that starts appears); older pages only while a run on them is live.
  const live = !f.after || page.rows.some((row) => row.state === 'running' || row.state === 'paused');
  const query = (extra: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ batch: f.batch, state: f.state, from: f.from, to: f.to, ...extra })) if (v) params.set(k, v);
    return `${b}/?${params}`;
  };
  const body = html`<h1>Runs</h1>
    ${filters(ctx, page)}
    <table id="runs">
      <thead>
        <tr>
          <th>Batch</th>
          <th>Run key</th>
          <th>Kind</th>
          <th>State</th>
          <th>Progress</th>
          <th class="n">Succeeded</th>
          <th class="n">Failed</th>
          <th class="n">Skipped</th>
          <th class="n">In flight</th>
          <th>Started</th>
          <th>Duration</th>
          <th>Pace</th>
        </tr>
      </thead>
      <tbody>
        ${page.rows.map((row) => runRow(ctx, page, row))}
      </tbody>
    </table>
    ${page.rows.length === 0 ? html`<p class="muted">No runs recorded${f.batch || f.state || f.from || f.to ? ' that match' : ''}.</p>` : ''}
    ${page.next ? html`<p><a id="next" href="${query({ after: page.next })}">Older runs →</a></p>` : ''}`;
  return layout(ctx, 'Runs', body, { live });
}

/** The runs list's filter form. */
function filters(ctx: PageContext, page: RunsPage): Html {
  const b = ctx.base;
  const f = page.filter;
  return html`<form class="filters" method="get" action="${b}/">
    <label
      >Batch<select name="batch">
        <option value="">all</option>
        ${page.batches.map((name) => html`<option ${name === f.batch ? 'selected' : ''} value="${name}">${name}</option>`)}
      </select></label
    >
    <label
      >State<select name="state">
        <option value="">all</option>
        ${RUN_STATES.map((s) => html`<option ${s === f.state ? 'selected' : ''} value="${s}">${s}</option>`)}
      </select></label
    >
    <label>From<input type="date" name="from" value="${f.from ?? ''}" /></label>
    <label>To<input type="date" name="to" value="${f.to ?? ''}" /></label>
    <button>Filter</button> <a href="${b}/">clear</a>
  </form>`;
}

/** One start's row: its state, live counts and pace against the batch's last finished total. */
function runRow(ctx: PageContext, page: RunsPage, row: RunRow): Html {
  const b = ctx.base;
  const live = page.live.get(row);
  const counts = countsOf(row, live);
  const open = row.state === 'running' || row.state === 'paused';
  const estimate = page.expected.get(row.batch);
  const expected = live?.progress?.done
    ? { total: live.progress.total, estimated: false }
    : estimate !== undefined
      ? { total: Math.max(estimate, counts?.total ?? 0), estimated: true }
      : undefined;
  return html`<tr data-batch="${row.batch}" data-run-key="${row.runKey}" data-state="${row.state}">
    <td>${row.batch}</td>
    <td><a href="${b}/runs/${row.id}">${row.runKey}</a></td>
    <td>${row.kind}</td>
    <td>
      ${stateBadge(row.state)}${live?.progress?.paused && row.state !== 'paused' ? html` ${stateBadge('paused')}` : ''}${
        live?.note || row.problem ? html`<br /><span class="muted">${row.problem ?? live?.note}</span>` : ''
      }
    </td>
    <td>
      ${counts ? progressBar(counts, open ? expected?.total : undefined) : html`<span class="muted">—</span>`}${
        counts?.steps ? stepLine(counts.steps) : ''
      }
    </td>
    <td class="n">${counts ? number(counts.succeeded) : ''}</td>
    <td class="n">${counts ? number(counts.failed) : ''}</td>
    <td class="n">${counts ? number(counts.skipped) : ''}</td>
    <td class="n">${live?.progress ? number(live.progress.inFlight) : ''}</td>
    <td>${when(row.startedAt)}</td>
    <td>${duration((row.finishedAt ?? new Date()).getTime() - row.startedAt.getTime())}</td>
    <td>${paceCell(row, counts, open ? expected : undefined)}</td>
  </tr>`;
}
