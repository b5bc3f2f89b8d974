// The gateway's status page: a login form for the operator token (kept in sessionStorage, this tab
// only), then GET /status/api every 2 s, rendered into the page's three tables. Data is written with
// textContent only (never as markup), so nothing from a tenant or an instance can inject script.
'use strict';

const TOKEN_KEY = 'kvserve.status.operatorToken';
const REFRESH_MS = 2000;
let timer = null;
let generation = 0; // a sign-out or sign-in makes any poll still in flight stale

const $ = (id) => document.getElementById(id);

function el(tag, options, ...children) {
  const node = document.createElement(tag);
  const o = options || {};
  if (o.cls) node.className = o.cls;
  if (o.title) node.title = o.title;
  if (o.attrs) for (const [k, v] of Object.entries(o.attrs)) node.setAttribute(k, v);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---- formatting

function count(n) {
  if (n === null || n === undefined) return '–';
  const abs = Math.abs(n);
  if (abs >= 1e9) return (n / 1e9).toFixed(abs >= 1e10 ? 0 : 1) + 'G';
  if (abs >= 1e6) return (n / 1e6).toFixed(abs >= 1e7 ? 0 : 1) + 'M';
  if (abs >= 1e4) return (n / 1e3).toFixed(abs >= 1e5 ? 0 : 1) + 'k';
  return String(n);
}

function percent(fraction) {
  if (fraction === null || fraction === undefined) return '–';
  const tenths = Math.round(1000 * fraction) / 10;
  return (Number.isInteger(tenths) ? String(tenths) : tenths.toFixed(1)) + '%';
}

function millis(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms >= 10000) return (ms / 1000).toFixed(1) + ' s';
  if (ms >= 1000) return (ms / 1000).toFixed(2) + ' s';
  return Math.round(ms) + ' ms';
}

function age(ms) {
  if (ms < 1000) return 'now';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s ago';
  if (ms < 3600000) return Math.floor(ms / 60000) + ' min ago';
  return Math.floor(ms / 3600000) + ' h ago';
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

function badge(text, kind, title) {
  return el('span', { cls: 'badge ' + kind, title }, text);
}

const LIMIT_NAMES = {
  requests_per_minute: ['req/min', 'rpm'],
  tokens_per_minute: ['tok/min', 'tpm'],
  max_concurrent_streams: ['streams', 'streams'],
  daily_token_budget: ['tok/day', 'daily'],
};

// ---- sections

function fill(table, rows) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
}

function sectionState(name, section, rows) {
  const error = $(name + '-error');
  error.textContent = section && section.error ? section.error : '';
  error.hidden = !(section && section.error);
  $(name + '-empty').hidden = rows.length > 0 || Boolean(section && section.error);
  $(name + '-count').textContent = rows.length ? '(' + rows.length + ')' : '';
}

function renderInstances(section) {
  const rows = (section.data || []).map((i) => {
    const usage = Math.max(0, Math.min(1, i.kv_cache_usage));
    const bar = el('span', { cls: 'meter', title: percent(usage) + ' of ' + count(i.kv_capacity_tokens) + ' tokens' },
      el('span', { cls: 'fill' + (usage > 0.9 ? ' hot' : '') }));
    bar.firstChild.style.width = (100 * usage).toFixed(1) + '%'; // CSSOM, which the CSP allows
    const stale = i.heartbeat_age_ms > 6000; // three missed heartbeats at the default 2 s
    const breaker = i.circuit_breaker;
    const breakerBadge = breaker === null || breaker === undefined
      ? badge('not called', 'neutral', 'this gateway has not called the instance yet')
      : badge(breaker.toLowerCase().replace('_', '-'),
          breaker === 'CLOSED' ? 'ok' : breaker === 'OPEN' || breaker === 'FORCED_OPEN' ? 'bad' : 'warn');
    const g = i.gateway;
    const hits = el('td', { cls: 'num hits', title: count(g.num_cached_tokens) + ' cached of ' + count(g.num_prompt_tokens)
        + ' prompt tokens in ' + g.num_requests + ' requests relayed by this gateway' },
      g.prefix_hit_rate === null ? '–' : percent(g.prefix_hit_rate),
      el('small', null, g.num_requests + ' req'));
    return el('tr', { attrs: { 'data-instance-id': i.id } },
      el('td', null, el('span', { cls: 'mono strong' }, i.id), el('small', null, i.url)),
      el('td', { cls: 'mono' }, i.model),
      el('td', { cls: 'status' }, badge(i.status, i.status === 'ready' ? 'ok' : 'warn')),
      el('td', { cls: 'num running' }, i.num_running),
      el('td', { cls: 'num waiting' }, i.num_waiting),
      el('td', { cls: 'kv' }, bar, el('span', { cls: 'kv-text' }, percent(usage))),
      el('td', { cls: 'num tps' }, i.tokens_per_second.toFixed(1)),
      el('td', { cls: 'num heartbeat' + (stale ? ' stale' : ''), title: stale ? 'no heartbeat for '
          + millis(i.heartbeat_age_ms) + ': the instance may be stuck or gone (its registration expires without one)'
          : 'last heartbeat ' + clock(i.heartbeat_at_ms) }, age(i.heartbeat_age_ms)),
      el('td', { cls: 'breaker' }, breakerBadge),
      hits);
  });
  fill($('instances'), rows);
  sectionState('instances', section, rows);
}

function limitsText(limits) {
  const parts = Object.entries(limits || {}).map(([k, v]) => count(v) + ' ' + (LIMIT_NAMES[k] || [k])[0]);
  return parts.length ? parts.join(' · ') : 'unlimited';
}

function rateLimits(state) {
  const entries = Object.entries(state || {});
  if (!entries.length) return el('span', { cls: 'muted' }, '–');
  const list = el('span', { cls: 'limits' });
  for (const [k, v] of entries) {
    const used = v.used / v.limit;
    const kind = used >= 1 ? 'bad' : used >= 0.8 ? 'warn' : 'neutral';
    list.append(badge((LIMIT_NAMES[k] || [k, k])[1] + ' ' + count(v.used) + '/' + count(v.limit), kind,
      v.reset_ms !== undefined ? 'resets in ' + millis(v.reset_ms) : undefined));
  }
  return list;
}

function renderTenants(section) {
  const rows = (section.data || []).map((t) => el('tr', { attrs: { 'data-tenant-id': t.id } },
    el('td', { cls: 'mono strong' }, t.id),
    el('td', null, t.name),
    el('td', { cls: 'num' }, t.weight),
    el('td', null, t.disabled ? badge('disabled', 'bad') : badge('enabled', 'ok')),
    el('td', { cls: 'limits-set' }, limitsText(t.limits)),
    el('td', { cls: 'num' }, count(t.today.requests)),
    el('td', { cls: 'num', title: count(t.today.prompt_tokens) + ' prompt, ' + count(t.today.completion_tokens)
        + ' completion, ' + count(t.today.cached_tokens) + ' cached' }, count(t.today.total_tokens)),
    el('td', null, rateLimits(t.rate_limits))));
  fill($('tenants'), rows);
  sectionState('tenants', section, rows);
}

function renderRequests(requests) {
  const rows = requests.map((r) => {
    const ok = r.outcome === '200';
    const cached = r.prompt_tokens === null ? '–' : count(r.cached_tokens) + ' / ' + count(r.prompt_tokens);
    return el('tr', { attrs: { 'data-request-id': r.request_id } },
      el('td', { cls: 'time' }, clock(r.ended_at_ms)),
      el('td', { cls: 'mono ellipsis', title: r.request_id }, r.request_id),
      el('td', { cls: 'mono' }, r.tenant_id),
      el('td', { cls: 'mono' }, r.model || '–'),
      el('td', { cls: 'mono' }, r.instance_id || '–'),
      el('td', { cls: 'num' }, r.num_attempts),
      el('td', null, badge(r.outcome, ok ? 'ok' : r.outcome === 'cancelled' ? 'neutral' : 'bad')),
      el('td', { cls: 'num' }, r.predicted_hit_tokens === null ? '–' : count(r.predicted_hit_tokens)),
      el('td', { cls: 'num' }, cached),
      el('td', { cls: 'num ttft' }, millis(r.time_to_first_token_ms)),
      el('td', { cls: 'num duration' }, millis(r.duration_ms)));
  });
  fill($('requests'), rows);
  $('requests-empty').hidden = rows.length > 0;
  $('requests-count').textContent = rows.length ? '(last ' + rows.length + ')' : '';
}

function render(data) {
  const redis = $('redis-state');
  redis.textContent = 'Redis ' + data.gateway.redis;
  redis.className = 'pill ' + (data.gateway.redis === 'up' ? 'ok' : 'bad');
  const streams = data.gateway.open_streams;
  $('open-streams').textContent = streams + (streams === 1 ? ' open stream' : ' open streams');
  $('updated').textContent = 'updated ' + clock(data.generated_at_ms);
  renderInstances(data.instances);
  renderTenants(data.tenants);
  renderRequests(data.recent_requests || []);
}

// ---- states

function banner(message) {
  $('banner').textContent = message || '';
  $('banner').hidden = !message;
}

function showLogin(message) {
  clearTimeout(timer);
  generation++;
  $('dashboard').hidden = true;
  $('summary').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login-error').hidden = !message;
  $('token').value = '';
  $('token').focus();
}

function showDashboard() {
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('summary').hidden = false;
}

function schedule(current) {
  clearTimeout(timer);
  if (current === generation) timer = setTimeout(refresh, REFRESH_MS);
}

async function errorMessage(response) {
  try {
    const body = await response.json();
    return body && body.error && body.error.message ? body.error.message : '';
  } catch (e) {
    return '';
  }
}

async function refresh() {
  const current = generation;
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    showLogin();
    return;
  }
  let response;
  try {
    response = await fetch('/status/api', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store' });
  } catch (e) {
    if (current !== generation) return;
    banner('The gateway did not answer (' + e.message + '); retrying every 2 s. The data below may be old.');
    schedule(current);
    return;
  }
  if (current !== generation) return;
  if (response.status === 401 || response.status === 403) {
    const detail = await errorMessage(response);
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(response.status === 401
      ? 'The operator token was refused (401). ' + detail
      : 'The status API is disabled on this gateway (403). ' + detail);
    return;
  }
  if (!response.ok) {
    banner('The gateway answered ' + response.status + ' ' + (await errorMessage(response))
      + '; retrying every 2 s. The data below may be old.');
    schedule(current);
    return;
  }
  let data;
  try {
    data = await response.json();
  } catch (e) {
    banner('The gateway answered something that is not JSON; retrying every 2 s.');
    schedule(current);
    return;
  }
  if (current !== generation) return;
  render(data);
  banner(null);
  showDashboard();
  schedule(current);
}

function start() {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    generation++;
    $('login-error').hidden = true;
    refresh();
  });
  $('logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin();
  });
  refresh();
}

document.addEventListener('DOMContentLoaded', start);
