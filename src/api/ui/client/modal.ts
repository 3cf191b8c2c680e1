/**
 * A modal on the native <dialog>: showModal() traps focus and makes the page behind inert, Esc
 * closes it (the `cancel` event), and focus goes back where it was when it closes.
 */
import { type ComponentChildren, h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export function Modal(props: { title: string; onClose: () => void; children?: ComponentChildren; wide?: boolean; labelId?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const labelId = props.labelId ?? `modal-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    // The first field, else the first button in the body; the header's Close button comes last.
    const first =
      dialog?.querySelector<HTMLElement>('[autofocus], input:not([disabled]), select:not([disabled]), textarea:not([disabled])') ??
      dialog?.querySelector<HTMLElement>('.modal-head ~ * button, .modal-head ~ button') ??
      dialog?.querySelector<HTMLElement>('button');
    first?.focus();
    return () => opener?.focus?.();
  }, []);
  return h(
    'dialog',
    {
      ref,
      class: props.wide ? 'modal wide' : 'modal',
      'aria-labelledby': labelId,
      onCancel: (event: Event) => {
        event.preventDefault();
        props.onClose();
      },
    },
    h(
      'header',
      { class: 'modal-head' },
      h('h2', { id: labelId }, props.title),
      h('button', { type: 'button', class: 'icon', 'aria-label': 'Close', onClick: props.onClose }, '×'),
    ),
    props.children,
  );
}
