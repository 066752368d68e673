import { html } from 'hono/html';
import type { FailureGroup } from '../../db/failureGroups';
import type { StoredFailure } from '../../db/ledger';
import { retryGroupCommand } from '../../util/commandFlags';
import { number, when } from './format';
import { button, layout, type Html, type PageContext } from './layout';

const groupHref = (base: string, id: string, g: { group: string; unit: string }, page?: { after: string; limit: number }) =>
  `${base}/runs/${id}/failures/group?group=${encodeURIComponent(g.group)}&unit=${encodeURIComponent(g.unit)}` +
  (page ? `&after=${encodeURIComponent(page.after)}&limit=${page.limit}` : '');

const optionsOf = (target: Record<string, unknown>) =>
  JSON.stringify(Object.fromEntries(Object.entries(target).filter(([k]) => k !== 'key')));

export function failuresPage(
  ctx: PageContext,
  page: { id: string; batch: string; runKey: string; params: Record<string, string>; groups: FailureGroup[]; finished: boolean },
): Html {
  const b = ctx.base;
  const body = html`<p class="muted"><a href="${b}/runs/${page.id}">← ${page.batch} · ${page.runKey}</a></p>
    <h1>Open failures by cause</h1>
    ${page.finished ? '' : html`<div class="notice">The run is still going: retry or clear its failures once it has finished.</div>`}
    ${page.groups.length === 0 ? html`<p class="muted">No open failures.</p>` : ''}
    ${page.groups.map(
      (g) =>
        html`<section class="group" data-group="${g.group}">
          <h2>${g.group}</h2>
          <p><b>${number(g.count)}</b> target(s) · step <code>${g.unit}</code> · first ${when(g.firstSeen)} · last ${when(g.lastSeen)}</p>
          <div>
            ${button(
              ctx,
              `/runs/${page.id}/retry`,
              'Retry this group',
              { group: g.group, unit: g.unit },
              {
                confirm: `Retry the ${g.count} target(s) of this group?`,
              },
            )}
            ${button(
              ctx,
              `/runs/${page.id}/clear`,
              'Clear this group',
              { group: g.group, unit: g.unit },
              {
                danger: true,
                confirm: `Forget the ${g.count} failure record(s) of this group? Their targets are selected again by the next run.`,
              },
            )}
            <span class="muted">CLI: <code>${retryGroupCommand(page.batch, page.params, g)}</code></span>
            ${g.count > g.samples.length ? html` · <a class="all" href="${groupHref(b, page.id, g)}">all ${number(g.count)} targets →</a>` : ''}
          </div>
          <table>
            <thead>
              <tr>
                <th>Target</th>
                <th>Error</th>
                <th class="n">Attempts</th>
                <th>Options its job carried</th>
              </tr>
            </thead>
            <tbody>
              ${g.samples.map(
                (s) =>
                  html`<tr>
                    <td>
                      <a href="${b}/targets?key=${encodeURIComponent(s.targetKey)}&amp;batch=${encodeURIComponent(page.batch)}"
                        >${s.targetKey}</a
                      >
                    </td>
                    <td>${s.error}</td>
                    <td class="n">${s.attempts}</td>
                    <td><code>${JSON.stringify(Object.fromEntries(Object.entries(s.target).filter(([k]) => k !== 'key')))}</code></td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </section>`,
    )}`;
  return layout(ctx, `Failures of ${page.batch} ${page.runKey}`, body);
}

/** Every target of one failure group, a page at a time by key, with its own error and the options its job carried. */
export function groupPage(
  ctx: PageContext,
  page: {
    id: string;
    batch: string;
    runKey: string;
    group: { error: string; unit: string };
    failures: StoredFailure[];
    limit: number;
    after: string | null;
    next?: string;
  },
): Html {
  const b = ctx.base;
  const body = html`<p class="muted"><a href="${b}/runs/${page.id}/failures">← failures of ${page.batch} · ${page.runKey}</a></p>
    <h1>${page.group.error}</h1>
    <p>step <code>${page.group.unit}</code>${page.after !== null ? html` · targets after <code>${page.after}</code>` : ''}</p>
    <table id="group-targets">
      <thead>
        <tr>
          <th>Target</th>
          <th>Error</th>
          <th class="n">Attempts</th>
          <th>Failed</th>
          <th>Options its job carried</th>
        </tr>
      </thead>
      <tbody>
        ${page.failures.map(
          (f) =>
            html`<tr>
              <td>
                <a href="${b}/targets?key=${encodeURIComponent(f.targetKey)}&amp;batch=${encodeURIComponent(page.batch)}">${f.targetKey}</a>
              </td>
              <td>${f.errorType}: ${f.error}</td>
              <td class="n">${f.attempts}</td>
              <td>${when(f.failedAt)}</td>
              <td><code>${optionsOf(f.target)}</code></td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${page.next !== undefined ? html`<p><a id="next" href="${groupHref(b, page.id, { group: page.group.error, unit: page.group.unit }, { after: page.next, limit: page.limit })}">next →</a></p>` : ''}`;
  return layout(ctx, `${page.group.error} · ${page.batch} ${page.runKey}`, body);
}
