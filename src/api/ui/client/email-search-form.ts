/** The Emails page's search form: every field labelled, Enter in any of them searches, Clear starts over. */
import { h } from 'preact';
import { EMAIL_STATES } from '../../trail-words.ts';
import type { EmailSearchForm } from './email-search.ts';
import { Field } from './form-fields.ts';
import { EMAIL_STATE_LABEL } from './trail-labels.ts';

type TextField = 'text' | 'messageId' | 'from' | 'subject';

const TEXT_FIELDS: Array<{ name: TextField; label: string; placeholder: string; hint?: string }> = [
  { name: 'text', label: 'Search', placeholder: 'words from the sender, subject or Message-ID' },
  { name: 'messageId', label: 'Message-ID', placeholder: '<abc123@mail.example>', hint: 'The whole Message-ID, with or without < >' },
  { name: 'from', label: 'From', placeholder: 'supplier.example' },
  { name: 'subject', label: 'Subject', placeholder: 'invoice' },
];

export function EmailSearchFields(props: {
  form: EmailSearchForm;
  connections: string[];
  busy: boolean;
  onChange: (form: EmailSearchForm) => void;
  onSearch: () => void;
  onClear: () => void;
}) {
  const { form, onChange } = props;
  const set = (patch: Partial<EmailSearchForm>) => onChange({ ...form, ...patch });
  const value = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;
  // The connection asked for stays selectable even when it is not (or no longer) configured.
  const connections = form.connection && !props.connections.includes(form.connection) ? [form.connection, ...props.connections] : props.connections;
  return h(
    'form',
    {
      class: 'card search-form',
      role: 'search',
      'aria-label': 'Search emails',
      onSubmit: (e: Event) => {
        e.preventDefault();
        props.onSearch();
      },
    },
    TEXT_FIELDS.map((field) =>
      h(
        Field,
        { key: field.name, id: `search-${field.name}`, label: field.label, hint: field.hint, wide: field.name === 'text' },
        h('input', {
          id: `f-search-${field.name}`,
          type: 'search',
          value: form[field.name],
          placeholder: field.placeholder,
          'aria-describedby': field.hint ? `f-search-${field.name}-hint` : undefined,
          onInput: (e: Event) => set({ [field.name]: value(e) }),
        }),
      ),
    ),
    h(
      Field,
      { id: 'search-since', label: 'Picked up from' },
      h('input', { id: 'f-search-since', type: 'date', value: form.since, onInput: (e: Event) => set({ since: value(e) }) }),
    ),
    h(
      Field,
      { id: 'search-until', label: 'Picked up to' },
      h('input', { id: 'f-search-until', type: 'date', value: form.until, onInput: (e: Event) => set({ until: value(e) }) }),
    ),
    h(
      Field,
      { id: 'search-connection', label: 'Connection' },
      h(
        'select',
        { id: 'f-search-connection', value: form.connection, onChange: (e: Event) => set({ connection: value(e) }) },
        h('option', { value: '' }, 'All connections'),
        connections.map((name) => h('option', { key: name, value: name }, name)),
      ),
    ),
    h(
      Field,
      { id: 'search-state', label: 'State' },
      h(
        'select',
        { id: 'f-search-state', value: form.state, onChange: (e: Event) => set({ state: value(e) as EmailSearchForm['state'] }) },
        h('option', { value: '' }, 'Any state'),
        EMAIL_STATES.map((state) => h('option', { key: state, value: state }, EMAIL_STATE_LABEL[state])),
      ),
    ),
    h(
      'div',
      { class: 'actions wide' },
      h('button', { type: 'submit', class: 'primary', disabled: props.busy }, props.busy ? 'Searching…' : 'Search'),
      h('button', { type: 'button', onClick: props.onClear }, 'Clear'),
    ),
  );
}
