/**
 * A tiny DOM builder: `h('p', { class: 'muted' }, 'text', child)`. Text goes through
 * `textContent`/text nodes only, never `innerHTML`, so server data cannot inject markup.
 */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(
      typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child,
    );
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A labelled form field. */
export function field(label: string, input: HTMLInputElement | HTMLTextAreaElement, hint?: string): HTMLLabelElement {
  return h(
    'label',
    { class: 'field' },
    h('span', { class: 'field-label' }, label),
    input,
    hint ? h('span', { class: 'field-hint' }, hint) : null,
  );
}

export function card(title: string | null, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, title ? h('h2', { class: 'card-title' }, title) : null, ...children);
}

/** A status line under a form: `show('error', '…')`, `show('ok', '…')`, `show(null)` clears it. */
export function statusLine(): { el: HTMLElement; show: (kind: 'error' | 'ok' | 'info' | null, text?: string) => void } {
  const el = h('p', { class: 'status', role: 'status' });
  return {
    el,
    show(kind, text = '') {
      el.className = kind ? `status status-${kind}` : 'status';
      el.textContent = text;
    },
  };
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFormat.format(d);
}

/** "3 min ago", "just now", falling back to the date. */
export function relativeTime(iso: string): string {
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return iso;
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return formatTime(iso);
}

/** Disables a form's controls while `task` runs. */
export async function busy<T>(form: HTMLFormElement | HTMLButtonElement, task: () => Promise<T>): Promise<T> {
  const controls =
    form instanceof HTMLFormElement ? Array.from(form.querySelectorAll('button, input, textarea')) : [form];
  for (const c of controls) (c as HTMLButtonElement).disabled = true;
  form.classList.add('is-busy');
  try {
    return await task();
  } finally {
    for (const c of controls) (c as HTMLButtonElement).disabled = false;
    form.classList.remove('is-busy');
  }
}
