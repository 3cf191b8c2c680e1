/** Log in with the API token (api.token in postroom.yaml, or the one made in the data directory). */
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, api } from './api.ts';

export function Login(props: { onLoggedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.login(token.trim());
      props.onLoggedIn();
    } catch (caught) {
      setError(caught instanceof ApiError ? (caught.status === 401 ? 'That is not the API token.' : caught.message) : String(caught));
    } finally {
      setBusy(false);
    }
  };

  return h(
    'main',
    { class: 'login' },
    h(
      'form',
      { class: 'card', onSubmit: submit },
      h('h1', {}, 'Postroom'),
      h('p', { class: 'muted' }, 'Log in with the API token: api.token in postroom.yaml, or the api-token file in the data directory (made on the first run).'),
      h('label', { for: 'token' }, 'API token'),
      h('input', {
        id: 'token',
        type: 'password',
        autocomplete: 'current-password',
        required: true,
        value: token,
        autofocus: true,
        onInput: (e: Event) => setToken((e.target as HTMLInputElement).value),
      }),
      error ? h('p', { class: 'error', role: 'alert' }, error) : null,
      h('button', { type: 'submit', class: 'primary', disabled: busy }, busy ? 'Checking…' : 'Log in'),
    ),
  );
}
