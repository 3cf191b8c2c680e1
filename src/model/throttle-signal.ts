/**
 * A failure as the throttle classifier reads it: every protocol first turns its failure into one
 * of these (the server's reply, an HTTP answer, a socket event, a refused login).
 */
type MailProtocol = 'imap' | 'pop3' | 'smtp';

export type ThrottleSignal =
  | {
      kind: 'reply';
      protocol: MailProtocol;
      text: string;
      /** IMAP [CODE], POP3 [CODE] or an SMTP enhanced code like 4.7.0. */
      responseCode?: string;
      /** SMTP numeric reply code. */
      status?: number;
      command?: string;
      /** True for an OK reply (e.g. one carrying [THROTTLED]). */
      ok?: boolean;
    }
  | { kind: 'http'; status: number; headers: Record<string, string | undefined>; body?: string }
  | {
      kind: 'socket';
      event: 'closed-mid-command' | 'bye' | 'folder-closed' | 'reset' | 'timeout' | 'refused' | 'dns' | 'tls';
      text?: string;
    }
  | { kind: 'login-failed'; protocol: MailProtocol; text: string; responseCode?: string; workedBefore: boolean };
