// Kith's one script (an ES module, no framework): instant search, inline edit,
// dragging deals between stages, selects that submit their form. Every page works
// without it; it only saves clicks and reloads.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? '';

function say(message, bad = false) {
  const s = document.getElementById('status');
  if (!s) return;
  s.textContent = message;
  s.classList.toggle('bad', bad);
}

async function api(method, path, body, version) {
  const headers = { 'content-type': 'application/json', 'x-csrf-token': csrf() };
  if (version !== undefined) headers['if-match'] = `"${version}"`;
  const res = await fetch(path, { method, headers, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  return { res, data };
}

function reason(res, data, field) {
  return data?.error?.fields?.[field] ?? data?.error?.message ?? res.statusText;
}

// Instant search: the server renders the rows (escaped once, there); we swap them in.
for (const input of document.querySelectorAll('input[data-instant]')) {
  let timer;
  let seq = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++seq;
      const params = new URLSearchParams(new FormData(input.form));
      params.set('fragment', 'results');
      const res = await fetch(`${input.dataset.instant}?${params}`);
      if (mine !== seq || !res.ok) return;
      document.getElementById('results').innerHTML = await res.text();
      params.delete('fragment');
      history.replaceState(null, '', `${input.dataset.instant}?${params}`);
    }, 150);
  });
}

// Inline edit: click a value, type, Enter saves, Escape cancels. The write names the
// version it was based on, so a newer edit by someone else is never overwritten.
// Any element with data-record (a record page's fields, a row in settings) holds the
// record's address and version; its value buttons edit in place.
document.addEventListener('click', (e) => {
  const button = e.target.closest('[data-record] button.value[data-field]');
  if (button && !button.hidden) edit(button);
});

// Messages come from the page (translated by the server), on the element or the body.
const msg = (record, name) => record.dataset[name] ?? document.body.dataset[name] ?? '';

function options(button) {
  return (button.dataset.options ?? '').split('|').filter(Boolean).map((p) => {
    const i = p.indexOf('=');
    return [p.slice(0, i), p.slice(i + 1)];
  });
}

function show(button, value) {
  const raw = value === null || value === undefined ? '' : String(value);
  button.dataset.raw = raw;
  const label = options(button).find(([v]) => v === raw)?.[1] ?? raw;
  button.textContent = label === '' ? '—' : label;
}

function edit(button) {
  const record = button.closest('[data-record]');
  const kind = button.dataset.kind;
  const field = button.dataset.field;
  let input;
  if (kind === 'select') {
    input = document.createElement('select');
    for (const [value, label] of options(button)) input.add(new Option(label, value));
  } else {
    input = document.createElement('input');
    input.type = kind;
  }
  input.value = button.dataset.raw;
  input.className = 'editor';
  input.name = field;
  const labelledBy = button.getAttribute('aria-describedby');
  if (labelledBy) input.setAttribute('aria-labelledby', labelledBy);
  else input.setAttribute('aria-label', button.dataset.label ?? field);
  const save = document.createElement('button');
  save.type = 'button';
  save.textContent = msg(record, 'msgSave');
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.textContent = msg(record, 'msgCancel');
  const wrap = document.createElement('span');
  wrap.className = 'editing';
  wrap.append(input, save, cancel);
  button.hidden = true;
  button.after(wrap);
  input.focus();

  const close = () => {
    wrap.remove();
    button.hidden = false;
    button.focus();
  };
  // Custom fields live under `custom` in the API: `custom.size` is custom: {size: …}.
  const custom = field.startsWith('custom.') ? field.slice(7) : null;
  const read = (rec) => (custom ? rec.custom?.[custom] : rec[field]);
  const commit = async () => {
    const text = input.value.trim();
    let value = text === '' ? null : kind === 'number' ? Number(text) : text;
    if (value !== null && button.dataset.json) value = JSON.parse(text);
    const body = custom ? { custom: { [custom]: value } } : { [field]: value };
    const { res, data } = await api('PATCH', `/api/v1/${record.dataset.objects}/${record.dataset.id}`,
      body, record.dataset.version);
    if (res.ok) {
      record.dataset.version = data.version;
      show(button, read(data));
      close();
      say(msg(record, 'msgSaved'));
    } else if (res.status === 412 && data?.error?.current) {
      const current = data.error.current;
      record.dataset.version = current.version;
      show(button, read(current));
      close();
      button.closest('.field-row')?.classList.add('stale');
      say(msg(record, 'msgStale').replace('{value}', button.textContent), true);
    } else {
      say(msg(record, 'msgFailed').replace('{reason}', reason(res, data, field)), true);
      input.focus();
    }
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      commit();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
    }
  });
  save.addEventListener('click', commit);
  cancel.addEventListener('click', close);
}

// Selects that act at once (pipeline chooser, a card's stage).
document.addEventListener('change', (e) => {
  if (e.target.matches('select[data-autosubmit]')) e.target.form.requestSubmit();
});

// Deals board: drag a card with mouse, pen or finger (pointer events, so touch works).
const board = document.querySelector('[data-board]');
if (board) {
  board.addEventListener('pointerdown', (e) => {
    const card = e.target.closest('.card');
    if (!card || e.target.closest('a, select, button, label') || e.button !== 0) return;
    e.preventDefault();
    const from = card.closest('.column');
    const box = card.getBoundingClientRect();
    const dx = e.clientX - box.left;
    const dy = e.clientY - box.top;
    const ghost = card.cloneNode(true);
    ghost.classList.add('ghost');
    ghost.style.width = `${box.width}px`;
    document.body.append(ghost);
    card.classList.add('dragging');
    let over = null;
    const move = (ev) => {
      ghost.style.left = `${ev.clientX - dx}px`;
      ghost.style.top = `${ev.clientY - dy}px`;
      const column = document.elementFromPoint(ev.clientX, ev.clientY)?.closest('.column') ?? null;
      if (column !== over) {
        over?.classList.remove('drop');
        column?.classList.add('drop');
        over = column;
      }
    };
    const up = async () => {
      document.removeEventListener('pointermove', move);
      ghost.remove();
      card.classList.remove('dragging');
      over?.classList.remove('drop');
      if (over && over !== from) await moveDeal(card, over);
    };
    move(e);
    document.addEventListener('pointermove', move);
    document.addEventListener('pointerup', up, { once: true });
  });
}

async function moveDeal(card, column) {
  const { res, data } = await api('PATCH', `/api/v1/deals/${card.dataset.deal}`,
    { stage_id: column.dataset.stage }, card.dataset.version);
  if (!res.ok) {
    say(board.dataset.msgFailed.replace('{reason}', reason(res, data, 'stage_id')), true);
    return;
  }
  say(board.dataset.msgMoved.replace('{stage}', column.dataset.stageName));
  // Redraw the board from the server so counts and totals are exact.
  const page = await fetch(location.href);
  if (!page.ok) return;
  const fresh = new DOMParser().parseFromString(await page.text(), 'text/html').querySelector('[data-board]');
  if (fresh) board.replaceChildren(...fresh.childNodes);
}

// Filter builder: each condition is appended to the filter's text form, which the
// server parses; people can read and edit what the builder wrote.
for (const form of document.querySelectorAll('form[data-filter-builder]')) {
  form.querySelector('[data-add-condition]')?.addEventListener('click', () => {
    const field = form.querySelector('#fb-field').value;
    const op = form.querySelector('#fb-op').value;
    const value = form.querySelector('#fb-value').value.trim();
    const quoted = `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
    let condition;
    if (op === 'is empty') condition = `${field} is empty`;
    else if (op === 'has') condition = `tags has ${quoted}`;
    else condition = `${field} ${op} ${quoted}`;
    const text = form.querySelector('#filter-text');
    text.value = text.value.trim() ? `${text.value.trim()} and ${condition}` : condition;
    form.querySelector('#fb-value').value = '';
    text.focus();
  });
}
