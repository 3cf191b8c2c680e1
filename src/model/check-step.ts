/** One step of a connection check, as `postroom check` prints it. */
export interface CheckStep {
  step: 'dns' | 'tcp' | 'tls' | 'greeting' | 'login' | 'folder' | 'capabilities' | 'token' | 'mailbox';
  ok: boolean;
  detail: string;
}
