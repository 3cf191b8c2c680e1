/** The shell: login, then four screens (status, connections, emails, dead letters) behind a tab bar. */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.ts';
import { ConnectionPage, connectionFromHash as connectionPageFromHash } from './connection-page.ts';
import { ConnectionsScreen } from './connections.ts';
import { DeadLettersScreen } from './dead-letters.ts';
import { connectionFromHash } from './email-search.ts';
import { EmailsScreen } from './emails.ts';
import { Login } from './login.ts';
import { StatusBoard } from './status-board.ts';

const SCREENS = [
  { id: 'status', label: 'Status' },
  { id: 'connections', label: 'Connections' },
  { id: 'emails', label: 'Emails' },
  { id: 'dead-letters', label: 'Dead letters' },
] as const;
type ScreenId = (typeof SCREENS)[number]['id'];

/** `#/emails?connection=shop`: the screen, then what it is opened for. */
function screenFromHash(hash: string): ScreenId {
  const id = hash.replace(/^#\/?/, '').split('?')[0];
  return SCREENS.find((screen) => screen.id === id)?.id ?? 'status';
}

function body(screen: ScreenId, hash: string) {
  // A connection's page (#/connection/<name>), opened from the status board; under the Status tab.
  const page = connectionPageFromHash(hash);
  if (page !== null) return h(ConnectionPage, { key: page, name: page });
  if (screen === 'status') return h(StatusBoard, {});
  if (screen === 'connections') return h(ConnectionsScreen, {});
  if (screen === 'emails') {
    // Keyed by the connection asked for, so a link from the status board starts a fresh search.
    const connection = connectionFromHash(hash);
    return h(EmailsScreen, { key: connection, connection });
  }
  return h(DeadLettersScreen, {});
}

type AuthState = 'checking' | 'needed' | 'in';

export function App() {
  const [auth, setAuth] = useState<AuthState>('checking');
  const [hash, setHash] = useState(location.hash);
  const screen = screenFromHash(hash);

  useEffect(() => {
    api.onUnauthorized = () => setAuth('needed');
    // A stored token, or an API without a token (loopback only), lets us straight in. With
    // neither, the page says a token is needed: the login shows at once, with no 401 to log.
    const tokenRequired = document.querySelector('meta[name="postroom-token"]')?.getAttribute('content') === 'required';
    if (tokenRequired && !api.hasToken()) setAuth('needed');
    else
      api
        .login(api.hasToken() ? sessionStorage.getItem('postroom.token') : null)
        .then(() => setAuth('in'))
        .catch(() => setAuth('needed'));
    const onHash = () => setHash(location.hash);
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  if (auth === 'checking') return h('p', { class: 'loading' }, 'Loading…');
  if (auth === 'needed') return h(Login, { onLoggedIn: () => setAuth('in') });

  const go = (id: ScreenId) => {
    location.hash = `#/${id}`;
    setHash(location.hash);
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
        SCREENS.map((item) =>
          h(
            'button',
            { type: 'button', key: item.id, class: 'tab', 'aria-current': item.id === screen ? 'page' : undefined, onClick: () => go(item.id) },
            item.label,
          ),
        ),
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
    h('main', { class: 'content' }, body(screen, hash)),
  );
}
