// The admin page: hash routes, one view at a time in <main>. See ../README.md for the routes and control names.
import { h, uid, time } from './dom.js';
import { api, credential, setCredential, clearCredential, startOidcSignIn, finishOidcSignIn } from './session.js';

const READ = 'customers:read';
const WRITE = 'customers:write';
const ERASE = 'customers:erase';
const PAGE_SIZE = 25;
const TITLE = 'CustomerRecords admin';

const main = document.getElementById('view');
const statusRegion = document.getElementById('status');

/** What the server told us: { mode, api_keys, oidc } from /admin/config. */
let config = null;
/** Who is signed in: { name, scopes } from /admin/whoami, or null. */
let me = null;
/** The last search, kept in memory so the text (personal data) never goes into the URL. */
const search = { text: '', cursors: [null], page: 0 };
const deleted = { cursors: [null], page: 0 };
/** A message for the sign-in view (e.g. why the previous credential stopped working). */
let signInMessage = null;

const can = (scope) => Boolean(me?.scopes?.includes(scope));

// ---------- status messages (one polite live region) ----------

function announce(text, ...actions) {
  statusRegion.replaceChildren(h('p', {}, text, ...actions.map((a) => [' ', a])));
}

function clearStatus() {
  statusRegion.replaceChildren();
}

/** The API's problem document as the page shows it: its own title and detail, no other words. */
function problemBlock(problem, id) {
  return h('div', { class: 'problem', role: 'alert', id },
    h('p', { class: 'problem-title', text: problem.title }),
    problem.detail ? h('p', { text: problem.detail }) : null);
}

// ---------- views ----------

/** Replaces the view, sets the title and moves focus to the new <h1> so keyboard and screen-reader users land there. */
function show(heading, ...content) {
  const h1 = h('h1', { tabindex: '-1', text: heading });
  main.replaceChildren(h1, ...content);
  document.title = `${heading} — ${TITLE}`;
  h1.focus();
}

function field({ label, name, value = '', type = 'text', hint, required = false, autocomplete = 'off' }) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const input = h('input', { id, name, type, value, required, autocomplete, 'aria-describedby': hintId ?? undefined });
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const wrapper = h('div', { class: 'field' },
    h('label', { for: id, text: label }),
    hint ? h('p', { class: 'hint', id: hintId, text: hint }) : null,
    input,
    error);
  return {
    wrapper,
    input,
    setError(messages) {
      const list = [].concat(messages ?? []).filter(Boolean);
      error.textContent = list.join(' ');
      error.hidden = list.length === 0;
      input.setAttribute('aria-invalid', list.length ? 'true' : 'false');
      input.setAttribute('aria-describedby', [hintId, list.length ? errorId : null].filter(Boolean).join(' '));
      if (!input.getAttribute('aria-describedby')) input.removeAttribute('aria-describedby');
    },
  };
}

function viewSignIn() {
  const parts = [];
  if (signInMessage) parts.push(problemBlock(signInMessage));
  if (config.mode === 'oidc') {
    parts.push(h('button', { type: 'button', class: 'primary', text: 'Sign in with single sign-on', on: { click: () => startOidcSignIn(config.oidc) } }));
  }

  if (config.mode === 'keys' || config.api_keys) {
    const key = field({ label: 'API key', name: 'api-key', type: 'password', hint: 'Kept in this browser tab only; signing out or closing the tab forgets it.', required: true });
    const form = h('form', { class: 'stack', novalidate: true, 'aria-label': 'Sign in with an API key' },
      key.wrapper,
      h('button', { type: 'submit', class: config.mode === 'oidc' ? '' : 'primary', text: 'Sign in with API key' }));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = key.input.value.trim();
      if (!value) {
        key.setError('Enter an API key.');
        key.input.focus();
        return;
      }

      setCredential('key', value);
      const answer = await api('GET', '/admin/whoami');
      if (!answer.ok) {
        clearCredential();
        key.setError([answer.problem.title, answer.problem.detail]);
        key.input.focus();
        return;
      }

      signedIn(answer.data);
      navigate('#/search');
    });
    parts.push(form);
  }

  show('Sign in', ...parts);
}

async function viewSearch() {
  const box = field({ label: 'Search', name: 'q', type: 'search', value: search.text, hint: 'Name or email (start of it), or phone number digits. Empty lists everyone.' });
  const results = h('section', { 'aria-label': 'Results' });
  const form = h('form', { role: 'search', class: 'row', novalidate: true }, box.wrapper, h('button', { type: 'submit', class: 'primary', text: 'Search' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    search.text = box.input.value;
    search.cursors = [null];
    search.page = 0;
    loadResults(true);
  });
  show('Find customers', form, results);

  async function loadResults(speak = false) {
    box.setError([]);
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    const text = search.text.trim();
    // Only digits and phone punctuation: a phone search (digits prefix); anything else: name/email prefix.
    if (text && /^[0-9+\-(). ]+$/.test(text) && /[0-9]/.test(text)) params.set('phone', text.replace(/[^0-9]/g, ''));
    else if (text) params.set('q', text);
    const cursor = search.cursors[search.page];
    if (cursor) params.set('after', cursor);
    results.replaceChildren(h('p', { text: 'Searching…' }));
    const answer = await api('GET', `/customers?${params}`);
    if (!answer.ok) {
      const fieldErrors = answer.problem.errors && (answer.problem.errors.q || answer.problem.errors.phone);
      if (fieldErrors) box.setError(fieldErrors);
      // The pager stays (Previous back to a page that loaded) and the same page can be asked for again (429, 503).
      const retry = h('button', { type: 'button', text: 'Try again', on: { click: () => loadResults(true) } });
      results.replaceChildren(problemBlock(answer.problem), h('p', {}, retry), pager(search, null, () => loadResults(true)));
      return;
    }

    const { items, next } = answer.data;
    if (next && search.cursors.length === search.page + 1) search.cursors.push(next);
    results.replaceChildren(
      items.length === 0
        ? h('p', { text: 'No customers match.' })
        : customerTable(items, 'Customers found', false),
      pager(search, next, () => loadResults(true)));
    if (speak) announce(items.length === 0 ? 'No customers match.' : `Page ${search.page + 1}: ${items.length} customers.`);
  }

  await loadResults();
}

function customerTable(items, caption, deletedList) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Name' }),
      h('th', { scope: 'col', text: 'Email' }),
      h('th', { scope: 'col', text: deletedList ? 'Deleted' : 'Phone' }),
      h('th', { scope: 'col', text: deletedList ? 'Action' : 'ID' }))),
    h('tbody', {}, items.map((c) => h('tr', {},
      h('td', {}, deletedList ? c.name : h('a', { href: `#/customers/${c.id}`, text: c.name })),
      h('td', { text: c.email }),
      h('td', {}, deletedList ? time(c.deleted_at) : (c.phone ?? '—')),
      h('td', {}, deletedList
        ? h('button', { type: 'button', text: 'Restore', 'aria-label': `Restore ${c.name}`, on: { click: () => restore(c.id, `#/customers/${c.id}`) } })
        : String(c.id)))))));
}

/** Previous/next buttons over a keyset listing: the cursors of pages already seen, the API's `next` for the one after. */
function pager(state, next, reload) {
  const previous = h('button', { type: 'button', text: 'Previous page', disabled: state.page === 0 });
  const following = h('button', { type: 'button', text: 'Next page', disabled: !next });
  // The page is drawn anew, buttons included: keep keyboard focus on the button used (or the other one at an end).
  const turn = async (step, label, other) => {
    state.page += step;
    await reload();
    const buttons = [...main.querySelectorAll('nav.pager button')];
    const target = buttons.find((b) => b.textContent === label && !b.disabled) ?? buttons.find((b) => b.textContent === other);
    target?.focus();
  };
  previous.addEventListener('click', () => turn(-1, 'Previous page', 'Next page'));
  following.addEventListener('click', () => turn(1, 'Next page', 'Previous page'));
  return h('nav', { class: 'row pager', 'aria-label': 'Pages' }, previous, following);
}

async function loadCustomer(id) {
  const answer = await api('GET', `/customers/${id}`);
  if (!answer.ok) {
    show(answer.status === 404 ? 'Customer not found' : 'Customer', problemBlock(answer.problem), h('p', {}, h('a', { href: '#/search', text: 'Back to Find' })));
    return null;
  }

  return { customer: answer.data, etag: answer.etag ?? `"${answer.data.version}"` };
}

function details(customer) {
  const row = (label, value) => [h('dt', { text: label }), h('dd', {}, value)];
  return h('dl', { class: 'details' },
    row('ID', String(customer.id)),
    row('Name', customer.name),
    row('Email', customer.email),
    row('Phone', customer.phone ?? '—'),
    row('Version', String(customer.version)),
    row('Created', time(customer.created_at)),
    row('Updated', time(customer.updated_at)));
}

async function viewCustomer(id) {
  const loaded = await loadCustomer(id);
  if (!loaded) return;
  const { customer, etag } = loaded;
  const actions = h('div', { class: 'row actions' },
    can(WRITE) ? h('a', { class: 'button', href: `#/customers/${id}/edit`, text: 'Edit' }) : null,
    h('a', { class: 'button', href: `#/customers/${id}/history`, text: 'History' }),
    h('button', { type: 'button', text: 'Export JSON', on: { click: () => exportCustomer(id) } }),
    can(WRITE) ? h('button', { type: 'button', class: 'danger', text: 'Delete', on: { click: () => confirmDelete(customer, etag) } }) : null,
    can(ERASE) ? h('button', { type: 'button', class: 'danger', text: 'Erase', on: { click: () => confirmErase(customer) } }) : null);
  show(customer.name, details(customer), actions);
}

async function exportCustomer(id) {
  const answer = await api('GET', `/customers/${id}/export`, { raw: true });
  if (!answer.ok) {
    announce(`${answer.problem.title}${answer.problem.detail ? `: ${answer.problem.detail}` : ''}`);
    return;
  }

  const url = URL.createObjectURL(new Blob([answer.blob], { type: 'application/json' }));
  const link = h('a', { href: url, download: `customer-${id}.json`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  announce(`Export of customer ${id} downloaded (customer-${id}.json).`);
}

/** A modal dialog; resolves true when the confirm button is used. `gate` (optional) is a field that must match first. */
function dialog({ heading, text, confirmLabel, gate }) {
  return new Promise((resolve) => {
    const headingId = uid('dialog-title');
    const confirm = h('button', { type: 'button', class: 'danger', text: confirmLabel, disabled: Boolean(gate) });
    const cancel = h('button', { type: 'button', text: 'Cancel' });
    let gateField = null;
    if (gate) {
      gateField = field({ label: gate.label, name: 'confirm-text' });
      gateField.input.addEventListener('input', () => { confirm.disabled = gateField.input.value.trim() !== gate.expected; });
    }

    const box = h('dialog', { 'aria-labelledby': headingId, class: 'dialog' },
      h('h2', { id: headingId, text: heading }),
      h('p', { text }),
      gateField?.wrapper,
      h('div', { class: 'row' }, confirm, cancel));
    let answer = false;
    confirm.addEventListener('click', () => { answer = true; box.close(); });
    cancel.addEventListener('click', () => box.close());
    box.addEventListener('close', () => {
      box.remove();
      resolve(answer);
    });
    document.body.append(box);
    box.showModal();
    (gateField?.input ?? cancel).focus();
  });
}

async function confirmDelete(customer, etag) {
  const ok = await dialog({
    heading: `Delete ${customer.name}?`,
    text: 'The customer disappears from searches. It can be restored from Recently deleted.',
    confirmLabel: 'Delete customer',
  });
  if (!ok) return;
  const answer = await api('DELETE', `/customers/${customer.id}`, { ifMatch: etag });
  if (!answer.ok) {
    // Changed (412) or gone (404) since the view was drawn: draw it again from the server, then say why nothing was deleted.
    navigate(window.location.hash, `${answer.problem.title}${answer.problem.detail ? `: ${answer.problem.detail}` : ''}`);
    return;
  }

  const undo = h('button', { type: 'button', text: 'Undo', on: { click: () => restore(customer.id, `#/customers/${customer.id}`) } });
  navigate('#/search', `Customer ${customer.id} deleted.`, undo);
}

async function restore(id, then) {
  const answer = await api('POST', `/customers/${id}/restore`);
  if (!answer.ok) {
    announce(`${answer.problem.title}${answer.problem.detail ? `: ${answer.problem.detail}` : ''}`);
    return;
  }

  navigate(then, `Customer ${id} restored.`);
}

async function confirmErase(customer) {
  const ok = await dialog({
    heading: `Erase ${customer.name}?`,
    text: 'Erasing removes this customer\'s personal data for good, history values included. It cannot be undone.',
    confirmLabel: 'Erase customer',
    gate: { label: `Type the customer ID ${customer.id} to confirm`, expected: String(customer.id) },
  });
  if (!ok) return;
  const answer = await api('POST', `/customers/${customer.id}/erase`);
  if (!answer.ok) {
    announce(`${answer.problem.title}${answer.problem.detail ? `: ${answer.problem.detail}` : ''}`);
    return;
  }

  navigate('#/search', `Customer ${customer.id} erased.`);
}

/** The edit and create form. `loaded` is { customer, etag } for an edit, null to create. */
function customerForm(loaded) {
  const values = loaded?.customer ?? { name: '', email: '', phone: '' };
  let etag = loaded?.etag;
  const fields = {
    name: field({ label: 'Name', name: 'name', value: values.name, required: true, autocomplete: 'off' }),
    email: field({ label: 'Email', name: 'email', type: 'email', value: values.email, required: true }),
    phone: field({ label: 'Phone', name: 'phone', type: 'tel', value: values.phone ?? '', hint: 'Optional. Digits, spaces and + - ( ) .' }),
  };
  const formError = h('div', { class: 'form-error' });
  const conflict = h('section', { class: 'conflict', hidden: true, 'aria-labelledby': 'conflict-title' });
  const save = h('button', { type: 'submit', class: 'primary', text: loaded ? 'Save changes' : 'Create customer' });
  const cancel = h('a', { class: 'button', href: loaded ? `#/customers/${values.id}` : '#/search', text: 'Cancel' });
  const meta = loaded ? h('p', { class: 'meta', text: `Customer ${values.id}, version ${values.version}` }) : null;
  const form = h('form', { class: 'stack', novalidate: true, 'aria-label': loaded ? 'Edit customer' : 'New customer' },
    meta, formError, conflict, fields.name.wrapper, fields.email.wrapper, fields.phone.wrapper, h('div', { class: 'row' }, save, cancel));
  // One key per body sent: a retried create of the same values (double click, lost answer) makes one customer, not
  // two; changed values (an email fixed after a duplicate-email answer) are a new request with a new key, since the
  // API keeps each key's answer and refuses the key with another body.
  let idempotencyKey = null;
  let keyedBody = null;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const f of Object.values(fields)) f.setError([]);
    formError.replaceChildren();
    const body = { name: fields.name.input.value, email: fields.email.input.value, phone: fields.phone.input.value.trim() || null };
    const text = JSON.stringify(body);
    if (text !== keyedBody) {
      idempotencyKey = crypto.randomUUID();
      keyedBody = text;
    }

    save.disabled = true;
    const answer = loaded
      ? await api('PUT', `/customers/${values.id}`, { body, ifMatch: etag })
      : await api('POST', '/customers', { body, headers: { 'Idempotency-Key': idempotencyKey } });
    save.disabled = false;
    if (answer.ok) {
      navigate(`#/customers/${answer.data.id}`,
        loaded ? `Customer ${answer.data.id} saved (version ${answer.data.version}).` : `Customer ${answer.data.id} created.`);
      return;
    }

    if (answer.status === 412) {
      await showConflict(answer.problem);
      return;
    }

    const problem = answer.problem;
    let first = null;
    const unplaced = [];
    for (const [key, messages] of Object.entries(problem.errors ?? {})) {
      const target = fields[key.toLowerCase()];
      if (target) {
        target.setError(messages);
        first ??= target.input;
      } else {
        unplaced.push(...[].concat(messages));
      }
    }

    if (!problem.errors && typeof problem.type === 'string' && problem.type.endsWith(':duplicate-email')) {
      fields.email.setError([problem.title, problem.detail]);
      first = fields.email.input;
    }

    formError.replaceChildren(problemBlock({ title: problem.title, detail: [problem.detail, ...unplaced].filter(Boolean).join(' ') }));
    // The problem block is an alert; focus goes to the first field the API named.
    if (first) first.focus();
  });

  async function showConflict(problem) {
    const current = await loadCurrent();
    const reload = h('button', { type: 'button', class: 'primary', text: 'Reload' });
    reload.addEventListener('click', () => {
      if (current) {
        etag = current.etag;
        fields.name.input.value = current.customer.name;
        fields.email.input.value = current.customer.email;
        fields.phone.input.value = current.customer.phone ?? '';
        meta.textContent = `Customer ${current.customer.id}, version ${current.customer.version}`;
      }

      conflict.hidden = true;
      conflict.replaceChildren();
      announce('Reloaded the current values; make your change again.');
      fields.name.input.focus();
    });
    conflict.replaceChildren(
      h('h2', { id: 'conflict-title', text: 'Changed since you opened it' }),
      problemBlock(problem),
      current ? h('p', { text: `Current values (version ${current.customer.version}):` }) : null,
      current ? details(current.customer) : null,
      h('p', { text: 'Your edits are still in the form below. Reload replaces them with the current values.' }),
      reload);
    conflict.hidden = false;
    reload.focus();
  }

  async function loadCurrent() {
    const answer = await api('GET', `/customers/${values.id}`);
    return answer.ok ? { customer: answer.data, etag: answer.etag ?? `"${answer.data.version}"` } : null;
  }

  return form;
}

async function viewEdit(id) {
  const loaded = await loadCustomer(id);
  if (!loaded) return;
  show(`Edit ${loaded.customer.name}`, customerForm(loaded));
}

function viewCreate() {
  show('New customer', customerForm(null));
}

async function viewHistory(id) {
  const list = h('ol', { class: 'timeline' });
  const more = h('button', { type: 'button', text: 'Older changes', hidden: true });
  const problemSlot = h('div');
  let next = null;
  more.addEventListener('click', () => load());
  show(`History of customer ${id}`, h('p', {}, h('a', { href: `#/customers/${id}`, text: 'Back to the customer' })), problemSlot, list, more);

  async function load() {
    const params = new URLSearchParams({ limit: '50' });
    if (next) params.set('after', next);
    const answer = await api('GET', `/customers/${id}/history?${params}`);
    if (!answer.ok) {
      problemSlot.replaceChildren(problemBlock(answer.problem));
      return;
    }

    for (const event of answer.data.items) list.append(historyItem(event));
    if (list.children.length === 0) list.replaceWith(h('p', { text: 'No changes recorded.' }));
    next = answer.data.next;
    more.hidden = !next;
  }

  await load();
}

function historyItem(event) {
  const changes = Object.entries(event.changes ?? {});
  return h('li', {},
    h('p', { class: 'event' },
      h('strong', { text: event.kind }), ' — ', time(event.at), ' — by ', h('span', { class: 'actor', text: event.actor }),
      ` — version ${event.version}`),
    changes.length === 0 ? null : h('table', { class: 'changes' },
      h('caption', { class: 'visually-hidden', text: `Changes of version ${event.version}` }),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Field' }), h('th', { scope: 'col', text: 'Before' }), h('th', { scope: 'col', text: 'After' }))),
      h('tbody', {}, changes.map(([name, change]) => h('tr', {},
        h('th', { scope: 'row', text: name }),
        h('td', { text: change.before ?? '—' }),
        h('td', { text: change.after ?? '—' }))))));
}

async function viewDeleted() {
  const results = h('section', { 'aria-label': 'Deleted customers' });
  show('Recently deleted', h('p', { text: 'Customers deleted within the restore window, newest first.' }), results);
  deleted.cursors = [null];
  deleted.page = 0;

  async function load() {
    const params = new URLSearchParams({ state: 'deleted', limit: String(PAGE_SIZE) });
    const cursor = deleted.cursors[deleted.page];
    if (cursor) params.set('after', cursor);
    const answer = await api('GET', `/customers?${params}`);
    if (!answer.ok) {
      results.replaceChildren(problemBlock(answer.problem));
      return;
    }

    const { items, next } = answer.data;
    if (next && deleted.cursors.length === deleted.page + 1) deleted.cursors.push(next);
    results.replaceChildren(
      items.length === 0 ? h('p', { text: 'No recently deleted customers.' }) : customerTable(items, 'Deleted customers', true),
      pager(deleted, next, load));
  }

  await load();
}

// ---------- routing ----------

/** A status message for the view a navigation opens (e.g. "deleted" with its Undo button). */
let pendingStatus = null;

function navigate(hash, ...status) {
  pendingStatus = status.length ? status : null;
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

async function route() {
  const status = pendingStatus;
  pendingStatus = null;
  clearStatus();
  await render();
  if (status) announce(...status);
}

async function render() {
  const hash = window.location.hash || '#/search';
  if (!me) {
    viewSignIn();
    return;
  }

  const needsWrite = hash === '#/customers/new' || hash === '#/deleted' || /^#\/customers\/\d+\/edit$/.test(hash);
  if (needsWrite && !can(WRITE)) {
    show('Forbidden', h('p', { text: `This view needs the ${WRITE} scope, which your sign-in lacks.` }), h('p', {}, h('a', { href: '#/search', text: 'Go to Find' })));
    return;
  }

  let m;
  if (hash === '#/' || hash === '#/search' || hash === '#/signin') await viewSearch();
  else if (hash === '#/customers/new') viewCreate();
  else if ((m = hash.match(/^#\/customers\/(\d+)$/))) await viewCustomer(m[1]);
  else if ((m = hash.match(/^#\/customers\/(\d+)\/edit$/))) await viewEdit(m[1]);
  else if ((m = hash.match(/^#\/customers\/(\d+)\/history$/))) await viewHistory(m[1]);
  else if (hash === '#/deleted') await viewDeleted();
  else show('Page not found', h('p', {}, h('a', { href: '#/search', text: 'Go to Find' })));
}

function signedIn(identity) {
  me = identity;
  signInMessage = null;
  document.getElementById('who').textContent = config.mode === 'open' ? 'Open mode' : `Signed in as ${identity.name}`;
  document.getElementById('sign-out').hidden = config.mode === 'open';
  const nav = document.getElementById('nav');
  nav.hidden = false;
  for (const item of nav.querySelectorAll('[data-scope]')) item.hidden = !can(item.dataset.scope);
}

function signOut(problem, status) {
  clearCredential();
  me = null;
  signInMessage = problem ?? null;
  document.getElementById('who').textContent = '';
  document.getElementById('sign-out').hidden = true;
  document.getElementById('nav').hidden = true;
  if (status) navigate('#/signin', status);
  else navigate('#/signin');
}

async function start() {
  const answer = await api('GET', '/admin/config');
  if (!answer.ok) {
    show('Sign-in is unavailable', problemBlock(answer.problem));
    return;
  }

  config = answer.data;
  document.getElementById('sign-out').addEventListener('click', () => signOut(null, 'Signed out.'));
  window.addEventListener('admin:unauthorized', (event) => {
    if (me && config.mode !== 'open') signOut(event.detail);
  });

  if (config.mode === 'open') {
    const banner = document.getElementById('banner');
    banner.textContent = 'Open mode: no sign-in — this service accepts anyone who can reach it (loopback only).';
    banner.hidden = false;
  }

  if (window.location.pathname === '/admin/callback' && config.mode === 'oidc') {
    const failure = await finishOidcSignIn(config.oidc, new URLSearchParams(window.location.search));
    // Drop the code and state from the address bar and history.
    window.history.replaceState(null, '', '/admin/#/search');
    if (failure && credential()) pendingStatus = [`${failure.title}: ${failure.detail}`];
    else if (failure) signInMessage = failure;
  }

  if (config.mode === 'open' || credential()) {
    const identity = await api('GET', '/admin/whoami');
    if (identity.ok) signedIn(identity.data);
    else if (config.mode !== 'open') {
      clearCredential();
      signInMessage = identity.problem;
    } else {
      show('Sign-in is unavailable', problemBlock(identity.problem));
      return;
    }
  }

  window.addEventListener('hashchange', route);
  await route();
}

start();
