/** The dialog's labelled fields: a label, the control, its hint and the API's error for it, tied together for screen readers. */
import { type ComponentChildren, h } from 'preact';

export function Field(props: {
  id: string;
  label: string;
  hint?: ComponentChildren;
  error?: string | undefined;
  children?: ComponentChildren;
  wide?: boolean;
}) {
  return h(
    'div',
    { class: `field${props.wide ? ' wide' : ''}${props.error ? ' has-error' : ''}` },
    h('label', { for: `f-${props.id}` }, props.label),
    props.children,
    props.hint ? h('small', { id: `f-${props.id}-hint`, class: 'hint' }, props.hint) : null,
    props.error ? h('small', { id: `f-${props.id}-error`, class: 'field-error', role: 'alert' }, props.error) : null,
  );
}

export function Check(props: {
  id: string;
  label: string;
  checked: boolean;
  disabled?: boolean;
  hint?: string;
  error?: string | undefined;
  onChange: (value: boolean) => void;
}) {
  return h(
    'div',
    { class: `field check-field${props.error ? ' has-error' : ''}` },
    h(
      'label',
      { class: 'check', for: `f-${props.id}` },
      h('input', {
        id: `f-${props.id}`,
        type: 'checkbox',
        checked: props.checked,
        disabled: props.disabled,
        'aria-describedby': props.hint ? `f-${props.id}-hint` : undefined,
        onChange: (e: Event) => props.onChange((e.target as HTMLInputElement).checked),
      }),
      props.label,
    ),
    props.hint ? h('small', { id: `f-${props.id}-hint`, class: 'hint' }, props.hint) : null,
    props.error ? h('small', { class: 'field-error', role: 'alert' }, props.error) : null,
  );
}
