/**
 * The dialog's preview: what the next poll would take and leave, and why, as
 * `POST /api/connections/:name/preview` answers (`postroom preview` in the browser). For a taken
 * email, each pipeline message it would make and the destination its route sends it to.
 */
import { h } from 'preact';
import type { PreviewRow } from '../../../engine/preview-connection.ts';

const VERDICT_LABEL: Record<PreviewRow['verdict'], string> = { taken: 'Taken', left: 'Left out', unreadable: 'Unreadable' };

export function PreviewRows(props: { rows: PreviewRow[] }) {
  const { rows } = props;
  const taken = rows.filter((row) => row.verdict === 'taken').length;
  return h(
    'section',
    { class: 'preview-result', 'aria-live': 'polite', 'aria-label': 'Preview result' },
    h(
      'h3',
      {},
      rows.length
        ? `Preview: the next poll would take ${taken} of ${rows.length} email(s)`
        : 'Preview: no new emails on the server; the next poll would take nothing',
    ),
    h('p', { class: 'hint' }, 'Nothing was marked, moved, deleted or delivered.'),
    rows.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'grid-table', 'aria-label': 'Preview' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Email', 'Verdict', 'Condition', 'Pipeline messages'].map((label) => h('th', { key: label, scope: 'col' }, label)),
              ),
            ),
            h(
              'tbody',
              {},
              rows.map((row) =>
                h(
                  'tr',
                  { key: row.key, class: `verdict-${row.verdict}` },
                  h('th', { scope: 'row' }, row.subject ?? '(no subject)', h('span', { class: 'sub' }, row.from ?? '(no sender)')),
                  h('td', {}, h('span', { class: `badge verdict-${row.verdict}` }, VERDICT_LABEL[row.verdict])),
                  h(
                    'td',
                    {},
                    row.condition ?? '–',
                    h('span', { class: 'sub' }, row.reason),
                    row.warning ? h('span', { class: 'sub warn', role: 'note' }, row.warning) : null,
                  ),
                  h(
                    'td',
                    {},
                    row.parts?.length
                      ? h(
                          'ul',
                          { class: 'parts' },
                          row.parts.map((part, index) => h('li', { key: index }, `${part.filename || part.kind} → ${part.destination}`)),
                        )
                      : '–',
                  ),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}
