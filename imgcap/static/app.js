// imgcap web page: choose or drop photos, send each to POST /caption, show its caption.
// Plain JavaScript, no libraries, nothing fetched from outside this server.
'use strict';

const $ = (id) => document.getElementById(id);
const beamSel = $('beam'), nbestSel = $('nbest'), input = $('files'), drop = $('drop');
const results = $('results'), statusLine = $('status'), clearBtn = $('clear'), template = $('card-template');

const MAX_PARALLEL = 4;         // requests in flight at once (the server batches them)
let limitMb = null;
let wantedNBest = null;         // the "captions per photo" last chosen; shown as min(it, beam)
let cards = [];                 // {file, url, el, token, state}
let running = 0;
const waiting = [];

function fillSelect(sel, n, value) {
  sel.textContent = '';
  for (let i = 1; i <= n; i++) sel.add(new Option(String(i), String(i)));
  sel.value = String(Math.min(value, n));
}

function mb(bytes) { return (bytes / (1024 * 1024)).toFixed(1); }

// Captions come in lower case; the page writes each one, the best and the alternatives, as a sentence.
function sentence(s) { return s ? s[0].toUpperCase() + s.slice(1) : s; }

// The decoding menus are built from what the server says: its widest beam and its default beam.
async function loadHealth() {
  try {
    const r = await fetch('/health');
    const h = await r.json();
    $('model').textContent = `model ${h.model} · encoder ${h.encoder} · ${h.device}`;
    limitMb = h.max_upload_mb;
    $('limits').textContent = `JPEG, PNG, GIF, WebP, BMP, TIFF · up to ${limitMb} MB each`;
    fillSelect(beamSel, h.max_beam, h.default_beam);
    wantedNBest = h.default_beam;
    fillSelect(nbestSel, h.default_beam, wantedNBest);
    beamSel.disabled = nbestSel.disabled = false;
  } catch (e) {
    $('model').textContent = 'the server is not answering';
    $('model').classList.add('bad');
  }
}

function updateStatus() {
  const n = (s) => cards.filter((c) => c.state === s).length;
  const busy = n('pending'), done = n('done'), bad = n('error');
  clearBtn.disabled = cards.length === 0;
  if (!cards.length) { statusLine.textContent = ''; return; }
  const parts = [];
  if (busy) parts.push(`captioning ${busy} photo${busy > 1 ? 's' : ''}…`);
  if (done) parts.push(`${done} captioned`);
  if (bad) parts.push(`${bad} rejected`);
  statusLine.textContent = parts.join(' · ');
}

function setState(card, state) {
  card.state = state;
  card.el.classList.remove('pending', 'done', 'error');
  card.el.classList.add(state);
  updateStatus();
}

function showError(card, message) {
  const q = (s) => card.el.querySelector(s);
  q('.caption').textContent = 'Rejected';
  q('.meta').textContent = '';
  q('.message').textContent = message;
  q('.alternatives').textContent = '';
  setState(card, 'error');
}

function showResult(card, res, beam) {
  const q = (s) => card.el.querySelector(s);
  q('.caption').textContent = sentence(res.caption);
  const conf = res.confidence == null ? '' : ` · confidence ${Math.round(100 * res.confidence)}%`;
  q('.meta').textContent = `log-probability ${res.logprob.toFixed(2)}${conf} · beam ${beam}`;
  q('.message').textContent = '';
  const list = q('.alternatives');
  list.textContent = '';
  for (const alt of (res.alternatives || []).slice(1)) {
    const li = document.createElement('li');
    li.textContent = sentence(alt.caption);
    const lp = document.createElement('span');
    lp.className = 'lp';
    lp.textContent = alt.logprob.toFixed(2);
    li.append(' ', lp);
    list.append(li);
  }
  setState(card, 'done');
}

function pump() {
  while (running < MAX_PARALLEL && waiting.length) {
    const job = waiting.shift();
    running++;
    job().finally(() => { running--; pump(); });
  }
}

function caption(card) {
  const token = ++card.token;
  card.el.querySelector('.caption').textContent = 'Captioning…';
  card.el.querySelector('.meta').textContent = '';
  card.el.querySelector('.alternatives').textContent = '';
  setState(card, 'pending');
  if (limitMb && card.file.size > limitMb * 1024 * 1024) {
    showError(card, `${card.file.name}: file too large (${mb(card.file.size)} MB; the limit is ${limitMb} MB)`);
    return;
  }
  waiting.push(async () => {
    await ready;  // the menus hold the server's settings
    if (token !== card.token) return;  // cleared or re-captioned before its turn
    const beam = Number(beamSel.value), nBest = Number(nbestSel.value);
    const body = new FormData();
    body.append('file', card.file, card.file.name);
    body.append('beam', String(beam));
    body.append('n_best', String(nBest));
    let r, data = null;
    try {
      r = await fetch('/caption', { method: 'POST', body });
      try { data = await r.json(); } catch (e) { data = null; }
    } catch (e) {
      if (token === card.token) showError(card, 'The server could not be reached. Is it still running?');
      return;
    }
    if (token !== card.token) return;
    if (!r.ok) {
      const detail = data && typeof data.detail === 'string' ? data.detail : `the server answered ${r.status}`;
      showError(card, detail);
    } else if (!Array.isArray(data) || !data.length) {
      showError(card, 'unexpected answer from the server');
    } else if (data[0].error) {
      showError(card, data[0].error);
    } else {
      showResult(card, data[0], beam);
    }
  });
  pump();
}

function addFiles(files) {
  const fresh = [];
  for (const file of files) {
    const el = template.content.firstElementChild.cloneNode(true);
    const card = { file, el, url: null, token: 0, state: 'pending' };
    el.querySelector('.filename').textContent = file.name;
    el.querySelector('.filename').title = `${file.name} (${mb(file.size)} MB)`;
    const img = el.querySelector('img');
    if (file.type.startsWith('image/')) {
      card.url = URL.createObjectURL(file);
      img.addEventListener('error', () => el.classList.add('nopreview'));
      img.src = card.url;
      img.alt = file.name;
    } else {
      el.classList.add('nopreview');
    }
    fresh.push(card);
  }
  // newest first, in the order they were chosen
  for (const card of [...fresh].reverse()) results.prepend(card.el);
  cards = [...fresh, ...cards];
  fresh.forEach(caption);
}

function clearAll() {
  for (const card of cards) {
    card.token++;
    if (card.url) URL.revokeObjectURL(card.url);
    card.el.remove();
  }
  cards = [];
  waiting.length = 0;
  updateStatus();
}

beamSel.addEventListener('change', () => {
  fillSelect(nbestSel, Number(beamSel.value), wantedNBest);
  cards.forEach(caption);
});
nbestSel.addEventListener('change', () => {
  wantedNBest = Number(nbestSel.value);
  cards.forEach(caption);
});
clearBtn.addEventListener('click', clearAll);
input.addEventListener('change', () => {
  if (input.files.length) addFiles(input.files);
  input.value = '';  // choosing the same file again still counts
});

// Drop anywhere on the page; the drop zone lights up while a file is over the window.
let depth = 0;
const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
window.addEventListener('dragenter', (e) => { if (hasFiles(e)) { depth++; drop.classList.add('over'); } });
window.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (!depth) drop.classList.remove('over'); });
window.addEventListener('dragover', (e) => { if (hasFiles(e)) e.preventDefault(); });
window.addEventListener('drop', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  depth = 0;
  drop.classList.remove('over');
  addFiles(e.dataTransfer.files);
});

beamSel.disabled = nbestSel.disabled = true;  // until /health has answered
const ready = loadHealth();
