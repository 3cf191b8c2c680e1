/** The shell: login, then three screens (status, connections, dead letters) behind a tab bar. */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import { ConnectionsScreen } from './connections.ts';
import { DeadLettersScreen } from './dead-letters.ts';
import { Login } from './login.ts';
import { StatusBoard } from './status-board.ts';

const SCREENS = [
  { id: 'status', label: 'Status' },
  { id: 'connections', label: 'Connections' },
  { id: 'dead-letters', label: 'Dead letters' },
] as const;
type ScreenId = (typeof SCREENS)[number]['id'];

function screenFromHash(): ScreenId {
  const id = location.hash.replace(/^#\/?/, '');
  return SCREENS.find((screen) => screen.id === id)?.id ?? 'status';
}

type AuthState = 'checking' | 'needed' | 'in';

export function App() {
  const [auth, setAuth] = useState<AuthState>('checking');
  const [screen, setScreen] = useState<ScreenId>(screenFromHash());

  useEffect(() => {
    api.onUnauthorized = () => setAuth('needed');
    // A stored token, or an API without a token (loopback only), lets us straight in.
    api
      .login(api.hasToken() ? sessionStorage.getItem('postroom.token') : null)
      .then(() => setAuth('in'))
      .catch(() => setAuth('needed'));
    const onHash = () => setScreen(screenFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  if (auth === 'checking') return h('p', { class: 'loading' }, 'Loading…');
  if (auth === 'needed') return h(Login, { onLoggedIn: () => setAuth('in') });

  const go = (id: ScreenId) => {
    location.hash = `#/${id}`;
    setScreen(id);
  };
  return h(
    'div',
    { class: 'shell' },
    h(
      'header',
      { class: 'topbar' },
      h('span', { class: 'brand' }, 'Postroom'),
      h(
        'nav',
        { 'aria-label': 'Screens' },
        SCREENS.map((item) => h('button', { type: 'button', key: item.id, class: 'tab', 'aria-current': item.id === screen ? 'page' : undefined, onClick: () => go(item.id) }, item.label)),
      ),
      h('span', { class: 'spacer' }),
      h('a', { href: '/docs', target: '_blank', rel: 'noopener' }, 'API docs'),
      api.hasToken()
        ? h(
            'button',
            {
              type: 'button',
              class: 'link',
              onClick: () => {
                api.setToken(null);
                setAuth('needed');
              },
            },
            'Log out',
          )
        : null,
    ),
    h(
      'main',
      { class: 'content' },
      screen === 'status' ? h(StatusBoard, {}) : screen === 'connections' ? h(ConnectionsScreen, {}) : h(DeadLettersScreen, {}),
    ),
  );
}
