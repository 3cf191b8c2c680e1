/**
 * `api.tls`: the certificate and private key the API serves HTTPS with, read once at start. A
 * missing or unreadable file, or a pair that does not make a TLS context, stops the start with
 * an error naming the field, rather than a server that fails every handshake.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Config } from '../config/schema.ts';
import { errorMessage, PostroomError } from '../model/errors.ts';

export interface TlsFiles {
  cert: string;
  key: string;
}

function readPem(field: string, path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? errorMessage(error);
    throw new PostroomError('CONFIG_INVALID', `${field}: cannot read "${path}" (${code})`, {
      hint: `give the path of a PEM file holding ${what}, readable by the user running postroom`,
    });
  }
}

export function readTlsFiles(tls: Config['api']['tls']): TlsFiles | undefined {
  if (!tls) return undefined;
  const files = { cert: readPem('api.tls.cert', tls.cert, 'the certificate (and its chain)'), key: readPem('api.tls.key', tls.key, 'its private key') };
  try {
    createSecureContext(files);
  } catch (error) {
    throw new PostroomError(
      'CONFIG_INVALID',
      `api.tls: "${tls.cert}" and "${tls.key}" are not a PEM certificate and its private key (${errorMessage(error)})`,
      {
        hint: 'api.tls.cert is the certificate chain, api.tls.key the unencrypted private key that matches it',
      },
    );
  }
  return files;
}
