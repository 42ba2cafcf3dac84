// Small DOM helpers. Text always goes in as text (textContent / text nodes), never as HTML: the page's CSP
// enforces Trusted Types with no policy, so an HTML sink would throw instead of running injected markup.

/**
 * Creates an element. attrs: plain attributes, plus `class`, `text`, `hidden`, `disabled`, `value`, `checked`
 * and `on` ({ click: fn }). Children: nodes, strings (as text), null/false (skipped) or arrays of those.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'on') {
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    } else if (name === 'text') {
      el.textContent = String(value);
    } else if (name === 'value' || name === 'checked' || name === 'disabled' || name === 'hidden') {
      el[name] = value;
    } else if (/^on/i.test(name)) {
      // Handlers only through `on` (addEventListener): an inline handler attribute is code from a string.
      throw new Error(`h(): attribute ${name} is not allowed; use on: { ... }`);
    } else if (name === 'href' && !/^(#\/|blob:)/.test(String(value))) {
      // The page links only to its own routes and to downloads it made: never a URL that came from data.
      throw new Error('h(): href must be a #/ route or a blob: URL');
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let ids = 0;

/** A unique element id with a readable prefix. */
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A time element showing a UTC instant in the reader's locale, with the exact value in `datetime` and `title`. */
export function time(iso) {
  if (!iso) return h('span', { text: '—' });
  const date = new Date(iso);
  return h('time', { datetime: iso, title: iso, text: Number.isNaN(date.getTime()) ? iso : date.toLocaleString() });
}
