import fs from 'node:fs';
import path from 'node:path';
import { STYLE } from './views/layout';

/** uPlot's browser build and stylesheet, served from the package that ships them. */
const uplotDist = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');

// The page's only script: loads a run's steps and throughput chart, swaps in a fresh <main> while a run is live
// (polling keeps it to plain HTTP, which any proxy in front passes), and confirms destructive buttons.
const SCRIPT = `(function () {
  // The run's ledger view (steps, throughput) loads after the page: it reads every row of the run.
  function cell(row, text, numeric) {
    var td = document.createElement('td');
    td.textContent = text;
    if (numeric) td.className = 'n';
    row.appendChild(td);
  }
  function draw() {
    var el = document.getElementById('chart');
    if (!el || !el.dataset.ledger) return;
    fetch(el.dataset.ledger, { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var body = document.querySelector('#steps tbody');
        if (body) {
          body.textContent = '';
          data.steps.forEach(function (s) {
            var tr = document.createElement('tr');
            cell(tr, s.unit);
            [s.succeeded, s.skipped, s.failed].forEach(function (n) { cell(tr, n.toLocaleString('en-US'), true); });
            body.appendChild(tr);
          });
        }
        var points = data.throughput.points;
        el.textContent = '';
        if (!points.length) { el.textContent = 'No units finished yet.'; return; }
        if (!window.uPlot) return;
        var series = [points.map(function (p) { return p[0]; }), points.map(function (p) { return Math.round(p[1] * 10) / 10; })];
        new uPlot({ width: Math.min(el.clientWidth || 900, 1200), height: 220, scales: { x: { time: true } },
          series: [{}, { label: 'units/s', stroke: '#2b6cb0', fill: 'rgba(43,108,176,0.12)' }] }, series, el);
      })
      .catch(function () { el.textContent = 'Could not read the ledger.'; });
  }
  function busy() {
    var a = document.activeElement;
    return a && (a.tagName === 'INPUT' || a.tagName === 'SELECT');
  }
  // Polls while the tab is seen: every 2 s while runs move, backing off to 30 s while none does (their bars and
  // states unchanged: a paused or stuck run) or while the server does not answer; a hidden tab stops, and
  // catches up once seen again.
  var FAST = 2000, SLOW = 30000, delay = FAST, timer = null, last = null;
  function progressOf(main) {
    return Array.prototype.map.call(main.querySelectorAll('[role=progressbar], .state'), function (el) {
      return el.getAttribute('aria-valuenow') || el.textContent;
    }).join(',');
  }
  function refresh() {
    timer = null;
    var main = document.querySelector('main[data-live]');
    if (!main || document.hidden) return;
    if (busy()) return schedule();
    fetch(location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        var fresh = text && new DOMParser().parseFromString(text, 'text/html').querySelector('main');
        if (!fresh) { delay = Math.min(delay * 2, SLOW); return; }
        var progress = progressOf(fresh);
        delay = progress === last ? Math.min(delay * 2, SLOW) : FAST;
        last = progress;
        main.innerHTML = fresh.innerHTML;
        if (!fresh.hasAttribute('data-live')) main.removeAttribute('data-live');
        draw();
      })
      .catch(function () { delay = Math.min(delay * 2, SLOW); })
      .then(schedule);
  }
  function schedule() { if (!timer && !document.hidden) timer = setTimeout(refresh, delay); }
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) { clearTimeout(timer); timer = null; } else { delay = FAST; refresh(); }
  });
  // A button that touches many targets says how many, and acts only once the operator agrees.
  document.addEventListener('submit', function (event) {
    var text = event.target.getAttribute && event.target.getAttribute('data-confirm');
    if (text && !window.confirm(text)) event.preventDefault();
  });
  draw();
  schedule();
})();
`;

export const assets: Record<string, { type: string; body: () => string }> = {
  'dashboard.js': { type: 'text/javascript; charset=utf-8', body: () => SCRIPT },
  'dashboard.css': { type: 'text/css; charset=utf-8', body: () => STYLE },
  'uPlot.iife.min.js': {
    type: 'text/javascript; charset=utf-8',
    body: () => fs.readFileSync(path.join(uplotDist, 'uPlot.iife.min.js'), 'utf8'),
  },
  'uPlot.min.css': { type: 'text/css; charset=utf-8', body: () => fs.readFileSync(path.join(uplotDist, 'uPlot.min.css'), 'utf8') },
};
