import fs from 'node:fs';
import path from 'node:path';

/** uPlot's browser build and stylesheet, served from the package that ships them. */
const uplotDist = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');

// The page's only script: loads a run's steps and throughput chart, and while a run is live, swaps in a fresh <main>
// every two seconds (polling keeps it to plain HTTP, which any proxy in front passes).
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
  function refresh() {
    var main = document.querySelector('main[data-live]');
    if (!main || busy()) return schedule();
    fetch(location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (!text) return;
        var fresh = new DOMParser().parseFromString(text, 'text/html').querySelector('main');
        if (!fresh) return;
        main.innerHTML = fresh.innerHTML;
        if (!fresh.hasAttribute('data-live')) main.removeAttribute('data-live');
        draw();
      })
      .catch(function () {})
      .then(schedule);
  }
  function schedule() { setTimeout(refresh, 2000); }
  draw();
  schedule();
})();
`;

export const assets: Record<string, { type: string; body: () => string }> = {
  'dashboard.js': { type: 'text/javascript; charset=utf-8', body: () => SCRIPT },
  'uPlot.iife.min.js': {
    type: 'text/javascript; charset=utf-8',
    body: () => fs.readFileSync(path.join(uplotDist, 'uPlot.iife.min.js'), 'utf8'),
  },
  'uPlot.min.css': { type: 'text/css; charset=utf-8', body: () => fs.readFileSync(path.join(uplotDist, 'uPlot.min.css'), 'utf8') },
};
