import { html } from 'hono/html';
import type { TimelineEntry } from '../data';
import type { ScheduleSummary } from '../../temporal/schedules';
import { when } from './format';
import { button, layout, traceLink, type Html, type PageContext } from './layout';
import type { QueueWorkers } from '../workers';
import type { Poller } from '../../temporal/pollers';

export function targetPage(
  ctx: PageContext,
  page: { key: string; batch?: string; entries: TimelineEntry[]; jobLink: (e: TimelineEntry) => string | undefined; allLink?: string },
): Html {
  const b = ctx.base;
  const body = html`<h1>Target <code>${page.key}</code>${page.batch ? html` in ${page.batch}` : ''}</h1>
    <p class="muted">
      Every ledger row, failure record and retry tju holds for this key, newest
      first.${
        page.allLink ? html` <a href="${page.allLink}" target="_blank" rel="noopener">Its job workflows in Temporal’s Web UI</a>` : ''
      }
    </p>
    ${
      page.entries.length === 0
        ? html`<p class="muted">Nothing recorded for this key: no run has processed it, or its records were pruned.</p>`
        : html`<table id="timeline">
            <thead>
              <tr>
                <th>When</th>
                <th>Batch</th>
                <th>Run</th>
                <th>Step</th>
                <th>What</th>
                <th>Job</th>
                <th>Trace</th>
              </tr>
            </thead>
            <tbody>
              ${page.entries.map((e) => {
                const link = e.kind === 'retry' ? undefined : page.jobLink(e);
                const what =
                  e.kind === 'ledger'
                    ? e.what
                    : html`failed after ${e.attempts} attempt(s):
                      ${e.what}${e.resolved ? html` <span class="muted">(resolved since)</span>` : html` <b>(open)</b>`}`;
                return html`<tr class="${e.kind}">
                  <td>${when(e.at)}</td>
                  <td>${e.batch}</td>
                  <td><a href="${b}/runs/${e.runId}">${e.runKey}</a></td>
                  <td><code>${e.unit}</code></td>
                  <td>${what} ${e.kind === 'failure' && !e.resolved ? targetButtons(ctx, page.key, e) : ''}</td>
                  <td>${link ? html`<a href="${link}" target="_blank" rel="noopener">workflow</a>` : ''}</td>
                  <td>${traceLink(ctx, e.traceId)}</td>
                </tr>`;
              })}
            </tbody>
          </table>`
    }`;
  return layout(ctx, `Target ${page.key}`, body);
}

/** An open failure's own buttons: retry this one target (its run's retry), or forget its failure record. */
function targetButtons(ctx: PageContext, key: string, e: TimelineEntry): Html {
  return html`<span class="target-actions">
    ${button(ctx, `/runs/${e.runId}/retry`, 'Retry this target', { target: key }, { confirm: `Retry ${key} in ${e.runKey}?` })}
    ${button(
      ctx,
      `/runs/${e.runId}/clear`,
      'Clear',
      { target: key },
      { danger: true, confirm: `Forget the failure of ${key} in ${e.runKey}? The next run of the key selects it again.` },
    )}
  </span>`;
}

export function schedulesPage(ctx: PageContext, schedules: Array<{ batch: string; summary?: ScheduleSummary; problem?: string }>): Html {
  const body = html`<h1>Schedules</h1>
    ${schedules.length === 0 ? html`<p class="muted">No batch of this app declares a schedule.</p>` : ''}
    <table id="schedules">
      <thead>
        <tr>
          <th>Batch</th>
          <th>When</th>
          <th>State</th>
          <th>Next firings</th>
          <th>Recent</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${schedules.map(({ batch, summary, problem }) => {
          if (!summary)
            return html`<tr>
              <td>${batch}</td>
              <td colspan="5" class="muted">${problem}</td>
            </tr>`;
          const spec = [...summary.cron, ...summary.calendar.map((c) => JSON.stringify(c))].join(', ');
          return html`<tr data-batch="${batch}">
            <td>${batch}</td>
            <td><code>${spec}</code> ${summary.timezone}</td>
            <td>
              ${summary.paused ? html`paused${summary.note ? html`<br /><span class="muted">${summary.note}</span>` : ''}` : 'active'}
            </td>
            <td>${summary.nextRuns.slice(0, 3).map((d) => html`${when(d)}<br />`)}</td>
            <td>${summary.recentRuns.slice(-3).map((r) => html`${when(r.scheduledAt)}<br />`)}</td>
            <td>
              ${summary.paused ? button(ctx, `/schedules/${encodeURIComponent(batch)}/unpause`, 'Unpause') : button(ctx, `/schedules/${encodeURIComponent(batch)}/pause`, 'Pause')}
              ${button(ctx, `/schedules/${encodeURIComponent(batch)}/trigger`, 'Trigger now')}
            </td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  return layout(ctx, 'Schedules', body);
}

export function loginPage(ctx: PageContext): Html {
  const body = ctx.readOnly
    ? html`<h1>Sign in</h1>
        <p>This dashboard is read-only: there is nothing to sign in to.</p>`
    : html`<h1>Sign in</h1>
        <form method="post" action="${ctx.base}/login" class="filters">
          <label>Your name (recorded with what you do)<input name="name" required maxlength="100" autocomplete="username" /></label>
          <label>Dashboard token<input name="token" type="password" required autocomplete="current-password" /></label>
          <button>Sign in</button>
        </form>`;
  return layout(ctx, 'Sign in', body);
}

/** Each task queue's pollers: identity and last poll, so a stuck run's missing worker shows. */
export function workersPage(ctx: PageContext, queues: QueueWorkers[], now: number): Html {
  const ago = (ms: number) => `${Math.max(0, Math.round((now - ms) / 1000))} s ago`;
  const pollers = (list: Poller[]) =>
    list.length
      ? list.map((p) => html`<code>${p.identity}</code> <span class="muted">${ago(p.lastPollMs)}</span><br />`)
      : html`<b>none</b>`;
  const body = html`<h1>Workers</h1>
    <p class="muted">
      Who polls each of this app's task queues, as Temporal lists them (a worker stays listed for minutes after it stops).
    </p>
    <table id="workers">
      <thead>
        <tr>
          <th>Task queue</th>
          <th>Role</th>
          <th>Workflow pollers</th>
          <th>Activity pollers</th>
        </tr>
      </thead>
      <tbody>
        ${queues.map(
          (q) =>
            html`<tr data-queue="${q.taskQueue}">
              <td><code>${q.taskQueue}</code></td>
              <td>${q.role === 'jobs' ? 'triggers, jobs, units' : 'a unit’s own queue'}</td>
              ${
                q.problem
                  ? html`<td colspan="2" class="error">${q.problem}</td>`
                  : html`<td>${q.role === 'jobs' ? pollers(q.workflowPollers) : '—'}</td>
                      <td>${pollers(q.activityPollers)}</td>`
              }
            </tr>`,
        )}
      </tbody>
    </table>`;
  return layout(ctx, 'Workers', body);
}
