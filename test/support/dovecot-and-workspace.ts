/** A private Dovecot and a workspace for one test file, stopped and removed when the file's tests end. */
import { after } from 'node:test';
import { type Dovecot, startDovecot } from './dovecot.ts';
import { type Workspace, workspace } from './postroom.ts';

export async function dovecotAndWorkspace(...options: Parameters<typeof startDovecot>): Promise<{ dovecot: Dovecot; ws: Workspace }> {
  const dovecot = await startDovecot(...options);
  const ws = await workspace();
  after(async () => {
    await dovecot.stop();
    await ws.dispose();
  });
  return { dovecot, ws };
}
