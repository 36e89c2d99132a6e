import { api, describeProblem } from '../api.js';
import { busy, card, h, relativeTime, replace, statusLine } from '../dom.js';
import type { Page } from '../page.js';

interface Note {
  id: string;
  text: string;
  createdAt: string;
}

function noteItem(note: Note): HTMLElement {
  return h(
    'li',
    { class: 'note', 'data-testid': 'note' },
    h('p', { class: 'note-text' }, note.text),
    h('time', { class: 'muted small', datetime: note.createdAt }, relativeTime(note.createdAt)),
  );
}

export const notesPage: Page = {
  title: 'Notes',
  requiresAuth: true,
  render() {
    const status = statusLine();
    const list = h('ul', { class: 'notes', 'data-testid': 'notes' });
    const empty = h('p', { class: 'empty' }, 'No notes yet. Write the first one above.');
    const text = h('input', {
      name: 'text',
      type: 'text',
      required: true,
      maxlength: 2000,
      placeholder: 'Remember to rotate the signing key…',
      autocomplete: 'off',
    });
    const form = h(
      'form',
      { id: 'note-form', class: 'inline-form' },
      text,
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add note'),
    );
    const show = (notes: Note[]) => {
      replace(list, ...notes.map(noteItem));
      empty.hidden = notes.length > 0;
    };
    let notes: Note[] = [];
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      status.show(null);
      void busy(form, async () => {
        const result = await api<{ note: Note }>('/api/notes', { method: 'POST', body: { text: text.value } });
        if (!result.ok) return status.show('error', describeProblem(result.problem));
        notes = [result.data.note, ...notes];
        show(notes);
        text.value = '';
      }).then(() => text.focus());
    });
    empty.hidden = true;
    void api<{ notes: Note[] }>('/api/notes').then((result) => {
      if (!result.ok) return status.show('error', describeProblem(result.problem));
      // Notes added before this answer arrived stay on top.
      const known = new Set(result.data.notes.map((n) => n.id));
      notes = [...notes.filter((n) => !known.has(n.id)), ...result.data.notes];
      show(notes);
    });
    return h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', {}, 'Notes'),
        h(
          'p',
          { class: 'lead' },
          'Private to your account. Adding one is a POST through the SDK, which attaches the CSRF header for you.',
        ),
      ),
      card(null, form, status.el, list, empty),
    );
  },
};
