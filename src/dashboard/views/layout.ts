import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What every page knows about the request: where the dashboard is mounted and who is looking. */
export interface PageContext {
  base: string;
  readOnly: boolean;
  signedIn: boolean;
  csrf: string;
  /** The codec: 'keys' when this dashboard decrypts payloads, 'none' when it has no keys. */
  codec: 'keys' | 'none';
  /** Where a trace is shown (`{traceId}` replaced), when the dashboard has a tracing system to link to. */
  traceUrl?: string;
  flash?: string;
  error?: string;
}

export const STYLE = `
:root{--fg:#1d232a;--muted:#66707a;--line:#dde2e7;--ok:#2f8f46;--bad:#c8372d;--warn:#b7791f;--run:#2b6cb0;--bg:#f6f8fa}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:#fff}
header{display:flex;gap:18px;align-items:center;padding:10px 20px;border-bottom:1px solid var(--line);background:var(--bg)}
header b{font-size:16px}header a{color:var(--fg);text-decoration:none}header .who{margin-left:auto;color:var(--muted)}
main{padding:16px 20px;max-width:1400px}h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:22px 0 8px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{width:160px;height:10px;background:#e9edf1;border-radius:5px;overflow:hidden;display:flex}.bar i{display:block;height:100%}
.bar .s{background:var(--ok)}.bar .f{background:var(--bad)}.bar .k{background:#8a99a8}
.state{padding:1px 7px;border-radius:9px;font-size:12px;color:#fff;background:var(--muted)}.state.running{background:var(--run)}
.state.paused{background:var(--warn)}.state.completed,.state.complete{background:var(--ok)}.state.failed,.state.failing{background:var(--bad)}.state.cancelled{background:#555}
.muted{color:var(--muted)}.flash{padding:8px 12px;background:#e6f4ea;border:1px solid #b7dfc2;margin-bottom:12px}
.error{padding:8px 12px;background:#fdecea;border:1px solid #f3b9b3;margin-bottom:12px}
.notice{padding:8px 12px;background:#fff8e6;border:1px solid #f0dca8;margin-bottom:12px}
form.inline{display:inline}button{font:inherit;padding:3px 10px;border:1px solid #b8c1ca;background:#fff;border-radius:4px;cursor:pointer}
button:disabled{opacity:.45;cursor:not-allowed}button.danger{border-color:var(--bad);color:var(--bad)}
.filters{display:flex;gap:8px;align-items:end;margin-bottom:12px;flex-wrap:wrap}.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
input,select{font:inherit;padding:3px 6px}code{font-size:12px;background:var(--bg);padding:1px 4px;border-radius:3px;word-break:break-all}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}#chart{min-height:220px}
`;

export function layout(ctx: PageContext, title: string, body: Html, options: { live?: boolean } = {}): Html {
  const b = ctx.base;
  const who = ctx.readOnly
    ? html`<span class="who">read-only</span>`
    : ctx.signedIn
      ? html`<form class="inline who" method="post" action="${b}/logout">
          <input type="hidden" name="_csrf" value="${ctx.csrf}" /><button>sign out</button>
        </form>`
      : html`<a class="who" href="${b}/login">sign in to use the buttons</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · tju</title>
        <link rel="stylesheet" href="${b}/assets/dashboard.css" />
        <link rel="stylesheet" href="${b}/assets/uPlot.min.css" />
      </head>
      <body>
        <header>
          <b>tju</b><a href="${b}/">Runs</a><a href="${b}/schedules">Schedules</a><a href="${b}/workers">Workers</a>
          <form class="inline" method="get" action="${b}/targets">
            <input name="key" placeholder="target key" aria-label="target key" /> <button>Timeline</button>
          </form>
          ${who}
        </header>
        <main ${options.live ? raw('data-live="1"') : ''}>
          ${ctx.readOnly ? html`<div class="notice">Read-only: this dashboard was started without <code>TJU_DASHBOARD_TOKEN</code>, so its buttons do nothing.</div>` : ''}
          ${ctx.flash ? html`<div class="flash" role="status">${ctx.flash}</div>` : ''}
          ${ctx.error ? html`<div class="error" role="alert">${ctx.error}</div>` : ''} ${body}
          <p class="muted">
            ${
              ctx.codec === 'keys'
                ? 'Temporal payloads are shown decrypted with this dashboard’s TJU_CODEC_KEYS.'
                : 'This dashboard has no codec keys: counts from PostgreSQL are shown; encrypted Temporal payloads are not.'
            }
          </p>
        </main>
        <script src="${b}/assets/uPlot.iife.min.js"></script>
        <script src="${b}/assets/dashboard.js"></script>
      </body>
    </html>`;
}

/** A button that posts an action; `confirm` asks the operator first (dashboard.js), naming what it touches. */
export function button(
  ctx: PageContext,
  action: string,
  label: string,
  fields: Record<string, string> = {},
  { danger = false, confirm }: { danger?: boolean; confirm?: string } = {},
): Html {
  const enabled = !ctx.readOnly && ctx.signedIn;
  const why = ctx.readOnly ? 'read-only dashboard' : enabled ? '' : 'sign in first';
  return html`<form class="inline" method="post" action="${ctx.base}${action}" ${confirm ? html`data-confirm="${confirm}"` : ''}>
    <input type="hidden" name="_csrf" value="${ctx.csrf}" />${Object.entries(fields).map(
      ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
    )}<button ${danger ? raw('class="danger"') : ''} ${enabled ? '' : raw('disabled')} title="${why}">${label}</button>
  </form>`;
}

export const stateBadge = (state: string) => html`<span class="state ${state}">${state}</span>`;

/** A link to a run's trace, when the dashboard knows where traces are shown and the run was traced. */
export const traceLink = (ctx: PageContext, traceId: string | null | undefined): Html | string =>
  ctx.traceUrl && traceId
    ? html`<a class="trace" href="${ctx.traceUrl.replaceAll('{traceId}', encodeURIComponent(traceId))}" target="_blank" rel="noopener"
        >trace</a
      >`
    : '';
