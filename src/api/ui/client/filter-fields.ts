/**
 * The connection dialog's Filter section: which emails the connection takes (`filter`), what
 * happens on the server to the others (`filtered`) and, on IMAP, whether the server's search
 * pre-selects (`filterOnServer`), as the README's "Filters, attachments and
 * routes" describes them. Empty fields set no condition; with none set every email is taken.
 */
import { h } from 'preact';
import type { FilterFieldName, FilterForm } from './filter-form.ts';
import { Field } from './form-fields.ts';

const PATTERN_HINT = 'One per line; any line matching is enough. A glob (* any text, ? one character, case-insensitive) or /regex/flags.';

export function FilterFields(props: {
  form: FilterForm;
  hostType: string;
  errors: Partial<Record<FilterFieldName, string | undefined>>;
  disabled: boolean;
  set: (key: FilterFieldName, value: string) => void;
}) {
  const { form, errors, set } = props;
  const described = (key: FilterFieldName) => [errors[key] ? `f-${key}-error` : '', `f-${key}-hint`].join(' ').trim();
  const patterns = (key: FilterFieldName, placeholder: string) =>
    h('textarea', {
      id: `f-${key}`,
      rows: 2,
      value: form[key],
      spellcheck: false,
      placeholder,
      'aria-invalid': errors[key] ? 'true' : undefined,
      'aria-describedby': described(key),
      onInput: (e: Event) => set(key, (e.target as HTMLTextAreaElement).value),
    });
  const input = (key: FilterFieldName, placeholder: string) =>
    h('input', {
      id: `f-${key}`,
      value: form[key],
      placeholder,
      autocomplete: 'off',
      'aria-invalid': errors[key] ? 'true' : undefined,
      'aria-describedby': described(key),
      onInput: (e: Event) => set(key, (e.target as HTMLInputElement).value),
    });
  const select = (key: FilterFieldName, options: Array<[string, string]>) =>
    h(
      'select',
      {
        id: `f-${key}`,
        value: form[key],
        'aria-invalid': errors[key] ? 'true' : undefined,
        'aria-describedby': described(key),
        onChange: (e: Event) => set(key, (e.target as HTMLSelectElement).value),
      },
      options.map(([value, label]) => h('option', { key: value, value }, label)),
    );
  const pop3 = props.hostType === 'pop3';

  return h(
    'fieldset',
    { disabled: props.disabled },
    h('legend', {}, 'Filter'),
    h('p', { class: 'hint' }, 'Take only the emails that meet every condition given here. Leave it all empty to take every email.'),
    h(
      'div',
      { class: 'grid' },
      h(
        Field,
        { id: 'filterFrom', label: 'From', error: errors.filterFrom, hint: `The sender's address. ${PATTERN_HINT}` },
        patterns('filterFrom', '*@supplier.example'),
      ),
      h(
        Field,
        { id: 'filterTo', label: 'To', error: errors.filterTo, hint: `Any recipient (To, Cc, Delivered-To). ${PATTERN_HINT}` },
        patterns('filterTo', 'invoices@*'),
      ),
      h(
        Field,
        {
          id: 'filterSubject',
          label: 'Subject',
          error: errors.filterSubject,
          hint: `A glob matches the whole subject; a /regex/ is searched in it. ${PATTERN_HINT}`,
        },
        patterns('filterSubject', 'Invoice *\n/^(Rechnung|Factura)\\b/i'),
      ),
      h(
        Field,
        {
          id: 'filterAttachmentTypes',
          label: 'Attachment types',
          error: errors.filterAttachmentTypes,
          hint: 'At least one attachment whose content type or file name matches. One glob per line.',
        },
        patterns('filterAttachmentTypes', 'application/pdf\n*.xml'),
      ),
      h(
        Field,
        { id: 'filterHasAttachments', label: 'Has attachments', error: errors.filterHasAttachments },
        select('filterHasAttachments', [
          ['any', 'Any email'],
          ['with', 'Only emails with attachments'],
          ['without', 'Only emails without attachments'],
        ]),
      ),
      h('div', { class: 'field', 'aria-hidden': 'true' }),
      h(
        Field,
        {
          id: 'filterMinSize',
          label: 'Min size',
          error: errors.filterMinSize,
          hint: 'The whole email, e.g. 10KB. KB, MB, GB are decimal; KiB, MiB, GiB binary.',
        },
        input('filterMinSize', 'no minimum'),
      ),
      h(
        Field,
        { id: 'filterMaxSize', label: 'Max size', error: errors.filterMaxSize, hint: 'e.g. 25MB. A bare number is bytes.' },
        input('filterMaxSize', 'no maximum'),
      ),
      h(
        Field,
        { id: 'filterAutoReplies', label: 'Auto-replies', error: errors.filterAutoReplies, hint: 'Out-of-office and vacation replies.' },
        select('filterAutoReplies', [
          ['include', 'Include (take them like any email)'],
          ['skip', 'Skip (leave them out)'],
        ]),
      ),
      h(
        Field,
        { id: 'filterBounces', label: 'Bounces', error: errors.filterBounces, hint: 'Delivery failure and delay notices.' },
        select('filterBounces', [
          ['include', 'Include (take them like any email)'],
          ['skip', 'Skip (leave them out)'],
        ]),
      ),
      h(
        Field,
        {
          id: 'filtered',
          label: 'Emails left out',
          error: errors.filtered,
          hint: pop3 ? 'POP3 has no read flag and no folders: leave or delete.' : 'What happens on the server to an email the filter does not take.',
        },
        select('filtered', [
          ['leave', 'Leave them unread where they are'],
          ['markRead', 'Mark them read'],
          ['moveTo', 'Move them to a folder'],
          ['delete', 'Delete them'],
        ]),
      ),
      form.filtered === 'moveTo'
        ? h(
            Field,
            { id: 'filteredMoveTo', label: 'Move to folder', error: errors.filteredMoveTo, hint: 'IMAP: the folder name; Graph: a well-known name or a path.' },
            input('filteredMoveTo', 'Skipped'),
          )
        : null,
      // Only IMAP searches, and only while the emails left out are left where they are.
      props.hostType === 'imap' && form.filtered === 'leave'
        ? h(
            Field,
            {
              id: 'filterOnServer',
              label: 'Pre-select on the server',
              error: errors.filterOnServer,
              hint: "The server's search picks the emails the sender, recipient, subject and size could take; Postroom checks each again, and leaves the others unread without reading them. Turn it off for a server whose search is wrong (the preview warns).",
            },
            select('filterOnServer', [
              ['on', 'Yes: IMAP SEARCH first'],
              ['off', "No: Postroom reads every email's headers"],
            ]),
          )
        : null,
    ),
  );
}
