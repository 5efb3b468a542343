/**
 * The dashboard page: one HTML document with inline CSS, plain JS and SVG. It subscribes to
 * `/api/events` (server-sent events) and redraws the topology picture, the route and connection
 * tables, the queue depths of each IMS system and the failover timeline; its buttons call the admin
 * API with the embedded token.
 *
 * Queue depth rows carry `data-ims` and `data-queue` (`input:TRAN` or `hold:OWNER/TPIPE`), their depth
 * cell `data-role="depth"`, so tests and scripts can find them.
 */

/** The page, with the admin token embedded for same-origin scripts. */
export function dashboardPage(token: string): string {
  return PAGE.replace('__TOKEN__', JSON.stringify(token).replace(/</g, '\\u003c'));
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>imsplex stack</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { font-family: system-ui, sans-serif; font-size: 14px; color: #1d2430; background: #f4f6f9; }
  body { margin: 0; }
  header { display: flex; gap: 1.5em; align-items: baseline; padding: .6em 1em; background: #1d2430; color: #fff; }
  header h1 { font-size: 1.15em; margin: 0; }
  header .muted { color: #9fb0c8; }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1em; padding: 1em; }
  section { background: #fff; border: 1px solid #d9dfe8; border-radius: 6px; padding: .6em .8em; min-width: 0; }
  section h2 { font-size: 1em; margin: .1em 0 .5em; }
  #topology { grid-column: 1 / -1; }
  svg { width: 100%; height: auto; }
  svg text { font-size: 12px; pointer-events: none; }
  svg .box rect { stroke: #46505f; stroke-width: 1.2; rx: 6; }
  svg .box[data-state="up"] rect { fill: #d8f3dc; }
  svg .box[data-state="starting"] rect, svg .box[data-state="stopping"] rect { fill: #fff3bf; }
  svg .box[data-state="down"] rect { fill: #ffc9c9; stroke: #c92a2a; }
  svg .box[data-state="stopped"] rect { fill: #e9ecef; }
  svg .box[data-quiesced="true"] rect { stroke: #1c7ed6; stroke-width: 3; stroke-dasharray: 6 3; }
  svg .vipa rect { fill: #e7f5ff; stroke: #1c7ed6; }
  svg .box[data-kind="redis"] rect { rx: 14; }
  svg .edge.sq { stroke-dasharray: 4 3; }
  svg .edge { stroke: #8a96a8; stroke-width: 1.2; fill: none; }
  svg .edge.hot { stroke: #2b8a3e; stroke-width: 2.5; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eef1f5; white-space: nowrap; }
  th { font-weight: 600; color: #46505f; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .boxes td button { font-size: .85em; margin-right: 2px; }
  .state-up { color: #2b8a3e; } .state-down { color: #c92a2a; font-weight: 600; } .state-starting, .state-stopping { color: #e67700; }
  #timeline ol { list-style: none; margin: 0; padding: 0; max-height: 22em; overflow: auto; font-family: ui-monospace, monospace; font-size: .85em; }
  #timeline li { padding: 1px 0; border-bottom: 1px dotted #eef1f5; }
  #timeline li[data-kind="kill"], #timeline li[data-kind="exit"] { color: #c92a2a; }
  #timeline li[data-kind="up"] { color: #2b8a3e; }
  #timeline li[data-kind="distributor"] { color: #1c7ed6; }
  #message { min-height: 1.2em; color: #c92a2a; }
  .scroll { max-height: 18em; overflow: auto; }
  #queues td.num.busy { font-weight: 600; color: #e67700; }
  #queues tr.stale td { color: #8a96a8; }
  #sq-info { margin-bottom: .4em; color: #46505f; }
</style>
</head>
<body>
<header>
  <h1>imsplex stack</h1>
  <span id="stack-state" class="muted">connecting…</span>
  <span id="vipa" class="muted"></span>
  <span id="stream" class="muted"></span>
</header>
<main>
  <section id="topology"><h2>Topology</h2><svg id="picture" viewBox="0 0 1120 360" role="img" aria-label="stack topology"></svg><div id="message" role="status"></div></section>
  <section id="boxes-section"><h2>Boxes</h2>
    <table class="boxes" id="boxes"><thead><tr><th>box</th><th>kind</th><th>host</th><th>state</th><th>pid</th><th>req/s</th><th>restarts</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section id="routes-section"><h2>Routes (connections per target)</h2>
    <table id="routes"><thead><tr><th>port</th><th>target</th><th>xcf</th><th>Rdy</th><th>active</th><th>routed</th><th>conn/s</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="queues-section"><h2>Queue depths</h2><div id="sq-info"></div>
    <div class="scroll"><table id="queues"><thead><tr><th>IMS</th><th>queue</th><th>name</th><th>depth</th><th>status</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section id="connections-section"><h2>Connection routing table (VCRT)</h2>
    <div class="scroll"><table id="connections"><thead><tr><th>dest</th><th>client</th><th>target</th></tr></thead><tbody></tbody></table></div>
  </section>
  <section id="timeline"><h2>Failover timeline</h2><ol></ol></section>
</main>
<script>
(function () {
  'use strict';
  var TOKEN = __TOKEN__;
  var SVGNS = 'http://www.w3.org/2000/svg';
  var last = null;
  var firstAt = null;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(n) { return n >= 100 ? String(Math.round(n)) : n.toFixed(1); }
  function rel(at) { if (firstAt === null) firstAt = at; return '+' + ((at - firstAt) / 1000).toFixed(3) + 's'; }

  function act(name, action) {
    var msg = document.getElementById('message');
    msg.textContent = action + ' ' + name + '…';
    return fetch('/api/boxes/' + encodeURIComponent(name) + '/' + action, { method: 'POST', headers: { authorization: 'Bearer ' + TOKEN } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (x) { msg.textContent = x.ok ? '' : (x.j.code + ': ' + x.j.error); })
      .catch(function (e) { msg.textContent = String(e); });
  }

  function drawPicture(s) {
    var root = document.getElementById('picture');
    while (root.firstChild) root.removeChild(root.firstChild);
    var portOf = function (kind) { for (var i = 0; i < s.distributes.length; i++) if (s.distributes[i].targets === kind) return s.distributes[i]; return null; };
    var of = function (kind) { return s.boxes.filter(function (b) { return b.kind === kind; }); };
    var cols = [
      { key: 'client', x: 10 },
      { key: 'vipa-rest', x: 150, dist: portOf('zosconnect') },
      { key: 'zosconnect', x: 330, boxes: of('zosconnect') },
      { key: 'vipa-ims', x: 520, dist: portOf('imsconnect') },
      { key: 'imsconnect', x: 700, boxes: of('imsconnect') },
      { key: 'ims', x: 900, boxes: of('ims') }
    ];
    var W = 150, H = 62, pos = {};
    function place(list, x) {
      var n = list.length, top = 20 + (260 - n * (H + 18)) / 2;
      list.forEach(function (b, i) { pos[b.name] = { x: x, y: Math.max(8, top + i * (H + 18)) }; });
    }
    cols.forEach(function (c) { if (c.boxes) place(c.boxes, c.x); });
    var rps = {};
    s.routes.forEach(function (r) { if (r.target) rps[r.target] = r; });
    function edge(x1, y1, x2, y2, hot) { root.appendChild(svg('path', { class: 'edge' + (hot ? ' hot' : ''), d: 'M' + x1 + ',' + y1 + ' C' + (x1 + 40) + ',' + y1 + ' ' + (x2 - 40) + ',' + y2 + ' ' + x2 + ',' + y2 })); }
    var vipaY = 120;
    cols.forEach(function (c) {
      if (!c.dist) return;
      var targets = of(c.dist.targets);
      targets.forEach(function (b) { var p = pos[b.name]; edge(c.x + 130, vipaY + 30, p.x, p.y + H / 2, rps[b.name] && rps[b.name].rps > 0); });
    });
    of('zosconnect').forEach(function (b) { var p = pos[b.name]; edge(p.x + W, p.y + H / 2, 520, vipaY + 30, false); });
    of('imsconnect').forEach(function (b) { var p = pos[b.name]; of('ims').forEach(function (i) { var q = pos[i.name]; edge(p.x + W, p.y + H / 2, q.x, q.y + H / 2, false); }); });
    // The shared-queues Redis under the IMS column, linked to every IMS system.
    of('redis').forEach(function (b) { pos[b.name] = { x: 900, y: 290 }; });
    of('redis').forEach(function (r) { var p = pos[r.name]; of('ims').forEach(function (i) { var q = pos[i.name]; root.appendChild(svg('path', { class: 'edge sq', d: 'M' + (q.x + W / 2) + ',' + (q.y + H) + ' L' + (p.x + W / 2) + ',' + p.y })); }); });
    edge(110, vipaY + 30, 150, vipaY + 30, false);
    var client = svg('g', { class: 'vipa' });
    client.appendChild(svg('rect', { x: 10, y: vipaY, width: 100, height: 60, rx: 6 }));
    client.appendChild(svg('text', { x: 20, y: vipaY + 34 }, 'REST client'));
    root.appendChild(client);
    cols.forEach(function (c) {
      if (!c.dist) return;
      var g = svg('g', { class: 'vipa', 'data-port': String(c.dist.port) });
      g.appendChild(svg('rect', { x: c.x, y: vipaY, width: 130, height: 60, rx: 6 }));
      g.appendChild(svg('text', { x: c.x + 8, y: vipaY + 18 }, 'VIPA ' + s.vipa + ':' + c.dist.port));
      g.appendChild(svg('text', { x: c.x + 8, y: vipaY + 34 }, c.dist.method + (c.dist.optLocal !== null ? ' OPTLOCAL ' + c.dist.optLocal : '')));
      g.appendChild(svg('text', { x: c.x + 8, y: vipaY + 50 }, 'owner: ' + (s.vipaOwner || 'none')));
      root.appendChild(g);
    });
    // Distributors under the VIPA columns.
    of('distributor').forEach(function (b, i) { pos[b.name] = { x: 150 + i * 185, y: 290 }; });
    s.boxes.forEach(function (b) {
      var p = pos[b.name];
      if (!p) return;
      var g = svg('g', { class: 'box', 'data-box': b.name, 'data-kind': b.kind, 'data-state': b.state, 'data-quiesced': String(b.quiesced) });
      g.appendChild(svg('rect', { x: p.x, y: p.y, width: W, height: H }));
      g.appendChild(svg('text', { x: p.x + 8, y: p.y + 17 }, b.name + ' · ' + b.kind));
      g.appendChild(svg('text', { x: p.x + 8, y: p.y + 33 }, b.host + ' ' + b.address + (b.protocolPort ? ':' + b.protocolPort : '')));
      var extra = b.kind === 'distributor' ? (s.vipaOwner === b.name ? 'owns VIPA' : 'backup') : b.kind === 'redis' ? fmt(b.rps) + ' cmd/s' : fmt(b.rps) + ' req/s';
      g.appendChild(svg('text', { x: p.x + 8, y: p.y + 49 }, b.state + (b.quiesced ? ' (quiesced)' : '') + ' · ' + extra));
      root.appendChild(g);
    });
  }

  function drawBoxes(s) {
    var tb = document.querySelector('#boxes tbody');
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    s.boxes.forEach(function (b) {
      var tr = el('tr', { 'data-box': b.name });
      tr.appendChild(el('td', {}, b.name));
      tr.appendChild(el('td', {}, b.kind));
      tr.appendChild(el('td', {}, b.host + ' ' + b.address));
      tr.appendChild(el('td', { class: 'state-' + b.state, 'data-role': 'state' }, b.state + (b.quiesced ? ' · quiesced' : '')));
      tr.appendChild(el('td', { class: 'num' }, b.pid === null ? '' : String(b.pid)));
      tr.appendChild(el('td', { class: 'num' }, fmt(b.rps)));
      tr.appendChild(el('td', { class: 'num' }, String(b.restarts)));
      var td = el('td');
      var actions = [['kill', 'kill -9'], ['restart', 'restart']];
      // Every IMS system needs the shared-queues Redis: it has no quiesce.
      if (b.kind !== 'redis') actions.push([b.quiesced ? 'resume' : 'quiesce', b.quiesced ? 'resume' : 'quiesce']);
      actions.forEach(function (a) {
        var btn = el('button', { type: 'button', 'data-action': a[0], 'data-box': b.name }, a[1]);
        btn.addEventListener('click', function () { act(b.name, a[0]); });
        td.appendChild(btn);
      });
      tr.appendChild(td);
      tb.appendChild(tr);
    });
  }

  function drawRoutes(s) {
    var tb = document.querySelector('#routes tbody');
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    s.routes.forEach(function (r) {
      var tr = el('tr', { 'data-target': r.target || '' });
      [String(r.port), r.target || '?', r.xcf, r.rdy === null ? '' : String(r.rdy), String(r.active), String(r.routed), fmt(r.rps)].forEach(function (v, i) { tr.appendChild(el('td', i >= 3 ? { class: 'num' } : {}, v)); });
      tb.appendChild(tr);
    });
    var cb = document.querySelector('#connections tbody');
    while (cb.firstChild) cb.removeChild(cb.firstChild);
    s.connections.forEach(function (c) {
      var tr = el('tr');
      tr.appendChild(el('td', {}, c.dvipa + '..' + c.port));
      tr.appendChild(el('td', {}, c.client + ':' + c.clientPort));
      tr.appendChild(el('td', {}, (c.target || '?') + ' (' + c.xcf + ')'));
      cb.appendChild(tr);
    });
  }

  function drawQueues(s) {
    var info = document.getElementById('sq-info');
    var sq = s.sharedQueues;
    info.textContent = sq ? 'shared queues: group ' + sq.group + ' on ' + (sq.box ? sq.box + ' (' + sq.url + ')' : sq.url) + ', lease ' + sq.leaseMs + ' ms' : 'embedded queues: a journal per IMS system';
    var tb = document.querySelector('#queues tbody');
    while (tb.firstChild) tb.removeChild(tb.firstChild);
    s.queues.forEach(function (q) {
      function row(kind, name, depth, status) {
        var tr = el('tr', { 'data-ims': q.ims, 'data-queue': kind + ':' + name, class: q.error ? 'stale' : '' });
        tr.appendChild(el('td', {}, q.ims));
        tr.appendChild(el('td', {}, kind));
        tr.appendChild(el('td', {}, name));
        tr.appendChild(el('td', { class: 'num' + (depth > 0 ? ' busy' : ''), 'data-role': 'depth' }, String(depth)));
        tr.appendChild(el('td', {}, status));
        tb.appendChild(tr);
      }
      if (q.error) {
        var tr = el('tr', { 'data-ims': q.ims, 'data-role': 'error', class: 'stale' });
        tr.appendChild(el('td', {}, q.ims));
        tr.appendChild(el('td', { colspan: '4' }, q.error));
        tb.appendChild(tr);
      }
      q.input.forEach(function (i) { row('input', i.tran, i.depth, ''); });
      q.hold.forEach(function (h) { row('hold', h.owner + '/' + h.tpipe, h.depth, h.status); });
    });
  }

  var seen = {};
  function addTimeline(e) {
    if (seen[e.seq]) return;
    seen[e.seq] = true;
    var ol = document.querySelector('#timeline ol');
    var li = el('li', { 'data-kind': e.kind, 'data-seq': String(e.seq) }, rel(e.at) + '  ' + e.text);
    ol.insertBefore(li, ol.firstChild);
    while (ol.childNodes.length > 300) ol.removeChild(ol.lastChild);
  }

  function render(s) {
    last = s;
    document.getElementById('stack-state').textContent = 'stack ' + s.state + (s.singleHost ? ' (single host)' : '') + ' · ' + s.dataPlane + ' data plane';
    document.getElementById('vipa').textContent = 'VIPA ' + s.vipa + ' owned by ' + (s.vipaOwner || 'nobody');
    drawPicture(s);
    drawBoxes(s);
    drawRoutes(s);
    drawQueues(s);
    s.timeline.forEach(addTimeline);
  }

  var es = new EventSource('/api/events');
  es.addEventListener('open', function () { document.getElementById('stream').textContent = 'live'; });
  es.addEventListener('error', function () { document.getElementById('stream').textContent = 'reconnecting…'; });
  es.addEventListener('snapshot', function (m) { render(JSON.parse(m.data)); });
  es.addEventListener('timeline', function (m) { addTimeline(JSON.parse(m.data)); });
  window.imsplexLastSnapshot = function () { return last; };
})();
</script>
</body>
</html>
`;
