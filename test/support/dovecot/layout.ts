/** Where an instance keeps its files, and the ports it listens on. */
import path from 'node:path';

export const HOST = '127.0.0.1';

export interface Ports {
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
}

export interface Paths {
  dir: string;
  configPath: string;
  baseDir: string;
  stateDir: string;
  logPath: string;
  certPath: string;
  keyPath: string;
  /** One passwd-file per user (see renderConfig). */
  usersDir: string;
  homesDir: string;
}

export function pathsIn(dir: string): Paths {
  return {
    dir,
    configPath: path.join(dir, 'dovecot.conf'),
    baseDir: path.join(dir, 'run'),
    stateDir: path.join(dir, 'state'),
    logPath: path.join(dir, 'dovecot.log'),
    certPath: path.join(dir, 'cert.pem'),
    keyPath: path.join(dir, 'key.pem'),
    usersDir: path.join(dir, 'passwd.d'),
    homesDir: path.join(dir, 'home'),
  };
}
