import { html } from 'hono/html';
import type { RunRow } from '../data';
import type { Live, PartitionLive } from '../live';
import type { RunAction } from '../../db/runActions';
import type { HookProblem } from '../../hooks/outbox';
import { describeBreaker, type BreakerRow } from '../../db/breakers';
import { duration, number, when } from './format';
import { button, layout, stateBadge, traceLink, type Html, type PageContext } from './layout';
import { countsOf, paceCell, progressBar } from './runs';

export interface RunPage {
  id: string;
  batch: string;
  runKey: string;
  starts: RunRow[];
  live: Map<RunRow, Live>;
  expected?: number;
  partitions: PartitionLive[];
  actions: RunAction[];
  openFailures: { count: number; groups: number };
  links: Map<RunRow, string | undefined>;
  /** The run key's state now, from the ledger and open failures, whichever start did it. */
  truth: { done: number; failing: number };
  /** The run's hook calls not delivered: still retrying, or given up. */
  hooks: HookProblem[];
  /** Circuit breakers of the batch's units that are open or probing now. */
  breakers: BreakerRow[];
}

/** The run key's state in a word: a start still open, else whether any target still fails. */
export const keyState = (page: RunPage, paused: boolean): string => {
  const open = page.starts.find((row) => row.state === 'running' || row.state === 'paused');
  if (open) return paused ? 'paused' : open.state;
  if (page.starts.length === 0) return 'not started';
  return page.truth.failing > 0 ? 'failing' : 'complete';
};

const card = (label: string, value: Html | string) => html`<div class="card"><span class="muted">${label}</span><b>${value}</b></div>`;

export function runPage(ctx: PageContext, page: RunPage): Html {
  const latest = page.starts[0];
  const live = latest ? page.live.get(latest) : undefined;
  const open = latest?.state === 'running' || latest?.state === 'paused';
  const paused = latest?.state === 'paused' || live?.progress?.paused === true;
  const body = html`${header(ctx, page, latest, live, paused)} ${controls(ctx, page, latest, open, paused)} ${truthCards(ctx, page)}
  ${latest && open ? countCards(page, latest, live, open) : ''} ${canarySection(latest, live)} ${breakersSection(page.breakers)}
  ${hooksSection(page.hooks)} ${ledgerViews(ctx, page)} ${partitionsTable(page.partitions)} ${startsTable(ctx, page)}
  ${actionsTable(page.actions)}`;
  return layout(ctx, `${page.batch} ${page.runKey}`, body, { live: open });
}

function header(ctx: PageContext, page: RunPage, latest: RunRow | undefined, live: Live | undefined, paused: boolean): Html {
  return html`<p class="muted"><a href="${ctx.base}/?batch=${encodeURIComponent(page.batch)}">${page.batch}</a></p>
    <h1>${page.batch} · ${page.runKey} ${stateBadge(keyState(page, paused))}</h1>
    ${latest?.problem ? html`<div class="error">${latest.problem}</div>` : ''}${live?.note ? html`<div class="notice">${live.note}</div>` : ''}`;
}

/** A unit's open breaker holds back every run of it: said above the counts, with when it opened. */
function breakersSection(breakers: BreakerRow[]): Html | string {
  if (breakers.length === 0) return '';
  return html`<section id="breakers">
    ${breakers.map(
      (b) =>
        html`<div class="error">
          ${describeBreaker(b)} — since ${b.openedAt ? when(b.openedAt) : '?'}: its attempts wait, none is spent
        </div>`,
    )}
  </section>`;
}

/** The latest start's canary: its figures and what its gate decided, with why the run holds while it does. */
function canarySection(latest: RunRow | undefined, live: Live | undefined): Html | string {
  const canary = live?.progress?.canary ?? latest?.counts?.canary;
  if (!canary) return '';
  const held = live?.progress?.held ?? (latest?.state === 'paused' ? latest.reason : undefined);
  const gate = { continued: 'opened by itself', waiting: 'waits for Resume', held: 'holds: over its failure ratio' }[canary.decision];
  return html`<section id="canary">
    <h2>Canary ${stateBadge(canary.passed ? 'passed' : 'failed')}</h2>
    ${held ? html`<div class="notice">${held}</div>` : ''}
    <p>
      <b>${number(canary.targets)}</b> target(s): ${number(canary.succeeded)} succeeded, ${number(canary.failed)} failed,
      ${number(canary.skipped)} skipped (max failure ratio ${canary.maxFailureRatio}); the gate ${gate}. Job time p50
      ${number(canary.jobMs.p50)} ms, p99 ${number(canary.jobMs.p99)} ms over ${number(canary.jobMs.jobs)} job(s).
    </p>
    ${
      canary.groups.length
        ? html`<table>
            <thead>
              <tr>
                <th>failures</th>
                <th>step</th>
                <th>cause</th>
              </tr>
            </thead>
            <tbody>
              ${canary.groups.map(
                (g) =>
                  html`<tr>
                    <td>${number(g.count)}</td>
                    <td><code>${g.unit}</code></td>
                    <td>${g.group}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : ''
    }
  </section>`;
}

function controls(ctx: PageContext, page: RunPage, latest: RunRow | undefined, open: boolean, paused: boolean): Html {
  const link = latest && page.links.get(latest);
  return html`<div id="controls">
    ${
      open
        ? html`${paused ? button(ctx, `/runs/${page.id}/resume`, 'Resume') : button(ctx, `/runs/${page.id}/pause`, 'Pause')}
          ${button(ctx, `/runs/${page.id}/cancel`, 'Cancel', {}, { danger: true, confirm: 'Cancel this run? Jobs in flight finish.' })}
          ${button(
            ctx,
            `/runs/${page.id}/cancel-now`,
            'Cancel now (and jobs in flight)',
            {},
            {
              danger: true,
              confirm: 'Cancel this run and the jobs in flight now?',
            },
          )}`
        : html`<span class="muted">Not running: nothing to pause or cancel.</span>`
    }
    ${link ? html` · <a href="${link}" target="_blank" rel="noopener">Trigger in Temporal’s Web UI</a>` : ''}
  </div>`;
}

/**
 * What is true of the run key, whichever start did it: targets done and failing now (from the ledger and open
 * failures), how many starts, and the time from the first start to the last end.
 */
function truthCards(ctx: PageContext, page: RunPage): Html {
  const { done, failing } = page.truth;
  const first = page.starts.at(-1);
  const open = page.starts.some((row) => row.finishedAt === null);
  const ends = page.starts.map((row) => row.finishedAt?.getTime() ?? 0);
  const elapsed = first ? (open ? Date.now() : Math.max(...ends)) - first.startedAt.getTime() : 0;
  const failingCard = failing > 0 ? html`<a href="${ctx.base}/runs/${page.id}/failures">${number(failing)}</a>` : number(failing);
  return html`<p id="truth-line">
      ${number(done)} done, ${number(failing)} failing${open ? ' so far' : ''}, over ${page.starts.length} start(s)
    </p>
    <div class="cards" id="truth">
      ${card('Done', number(done))}${card('Failing', failingCard)}${card('Starts', String(page.starts.length))}${card(
        open ? 'Running for' : 'First start to last end',
        duration(elapsed),
      )}
    </div>
    <div id="truth-bar">${progressBar({ total: done + failing, succeeded: done, failed: failing, skipped: 0 })}</div>`;
}

/** Hook calls not delivered: still retrying, or given up (each with its last error). */
function hooksSection(hooks: HookProblem[]): Html | string {
  if (!hooks.length) return '';
  return html`<h2>Hooks not delivered</h2>
    <table id="hooks">
      <thead>
        <tr>
          <th>Hook</th>
          <th>State</th>
          <th class="n">Events</th>
          <th class="n">Attempts</th>
          <th>Last error</th>
        </tr>
      </thead>
      <tbody>
        ${hooks.map(
          (hook) =>
            html`<tr class="${hook.state}">
              <td>${hook.hook}</td>
              <td>${hook.state}</td>
              <td class="n">${hook.events}</td>
              <td class="n">${hook.attempts} of ${hook.maxAttempts}</td>
              <td>${hook.lastError ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

/** The running start's live counts, pace and duration, and its progress bar against the expected total. */
function countCards(page: RunPage, latest: RunRow, live: Live | undefined, open: boolean): Html {
  const counts = countsOf(latest, live);
  if (!counts) return html`<p class="muted">No counts yet.</p>`;
  const expected = live?.progress?.done
    ? { total: live.progress.total, estimated: false }
    : page.expected !== undefined
      ? { total: page.expected, estimated: true }
      : undefined;
  const elapsed = (latest.finishedAt ?? new Date()).getTime() - latest.startedAt.getTime();
  return html`<h2>This start, live</h2>
    <div class="cards" id="counts">
      ${card('Succeeded', number(counts.succeeded))}${card('Failed', number(counts.failed))}${card('Skipped', number(counts.skipped))}${card(
        'In flight',
        live?.progress ? number(live.progress.inFlight) : '—',
      )}${card('Pace', paceCell(latest, counts, open ? expected : undefined))}${card('Duration', duration(elapsed))}
    </div>
    <p>${progressBar(counts, open ? expected?.total : undefined)}</p>`;
}

/** What the run's ledger says, loaded by the page's script; and its open failures. */
function ledgerViews(ctx: PageContext, page: RunPage): Html {
  const b = ctx.base;
  return html`<h2>Throughput (units finished per second, from the ledger)</h2>
    <div id="chart" data-ledger="${b}/api/runs/${page.id}/ledger">Reading the ledger…</div>
    <h2>Steps</h2>
    <table id="steps">
      <thead>
        <tr>
          <th>Unit</th>
          <th class="n">Succeeded</th>
          <th class="n">Skipped</th>
          <th class="n">Failed (open)</th>
        </tr>
      </thead>
      <tbody></tbody>
    </table>
    <h2>Failures</h2>
    <p id="failures-summary">
      ${
        page.openFailures.count
          ? html`<a href="${b}/runs/${page.id}/failures"
              >${number(page.openFailures.count)} open failure(s) in ${page.openFailures.groups} group(s) →</a
            >`
          : html`<span class="muted">No open failures.</span>`
      }
    </p>`;
}

function partitionsTable(partitions: PartitionLive[]): Html | string {
  if (!partitions.length) return '';
  return html`<h2>Partitions</h2>
    <table id="partitions">
      <thead>
        <tr>
          <th>Partition</th>
          <th>State</th>
          <th>Progress</th>
          <th class="n">Succeeded</th>
          <th class="n">Failed</th>
          <th class="n">In flight</th>
        </tr>
      </thead>
      <tbody>
        ${partitions.map(
          (p) =>
            html`<tr>
              <td>${p.uiUrl ? html`<a href="${p.uiUrl}" target="_blank" rel="noopener">${p.workflowId}</a>` : p.workflowId}</td>
              <td>${p.state}</td>
              <td>${p.progress ? progressBar(p.progress) : ''}</td>
              <td class="n">${p.progress ? number(p.progress.succeeded) : ''}</td>
              <td class="n">${p.progress ? number(p.progress.failed) : ''}</td>
              <td class="n">${p.progress ? number(p.progress.inFlight) : ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function startsTable(ctx: PageContext, page: RunPage): Html {
  return html`<h2>Starts of this run key</h2>
    <table id="starts">
      <thead>
        <tr>
          <th>Workflow</th>
          <th>Kind</th>
          <th>State</th>
          <th>Started</th>
          <th>Finished</th>
          <th>Counts</th>
          <th>Reason</th>
          <th>Trace</th>
        </tr>
      </thead>
      <tbody>
        ${page.starts.map((row) => {
          const link = page.links.get(row);
          const c = row.counts;
          return html`<tr>
            <td>${link ? html`<a href="${link}" target="_blank" rel="noopener">${row.workflowId}</a>` : row.workflowId}</td>
            <td>${row.kind}</td>
            <td>${stateBadge(row.state)}</td>
            <td>${when(row.startedAt)}</td>
            <td>${when(row.finishedAt)}</td>
            <td>${c ? `total ${c.total}, succeeded ${c.succeeded}, failed ${c.failed}, skipped ${c.skipped}` : ''}</td>
            <td>${row.reason ?? ''}</td>
            <td>${traceLink(ctx, row.traceId)}</td>
          </tr>`;
        })}
      </tbody>
    </table>`;
}

function actionsTable(actions: RunAction[]): Html {
  return html`<h2>Operator actions</h2>
    ${
      actions.length
        ? html`<table id="actions">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>What</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              ${actions.map(
                (a) =>
                  html`<tr>
                    <td>${when(a.at)}</td>
                    <td>${a.actor}</td>
                    <td>${a.action}</td>
                    <td><code>${JSON.stringify(a.detail)}</code></td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted">None recorded.</p>`
    }`;
}
