import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ConnectionInput, connectionSchema } from '../../src/config/schema.ts';
import { graphSource } from '../../src/sources/graph/graph-source.ts';
import type { CheckStep } from '../../src/sources/source.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { quietLog } from '../support/postroom.ts';
import { APP, fakeGraphWithMailbox, graphConnection, MAILBOX, TENANT } from './graph-kit.ts';

describe('postroom check for a Graph connection', () => {
  let graph: FakeGraph;

  before(async () => {
    graph = await fakeGraphWithMailbox();
    graph.addApp({ tenantId: TENANT, clientId: 'app-no-consent', clientSecret: 'secret-2', roles: [] });
    graph.addApp({ tenantId: TENANT, clientId: 'app-read-only', clientSecret: 'secret-3', roles: ['Mail.Read'] });
    const inbox = graph.folderId(MAILBOX, 'inbox');
    graph.addFolder(MAILBOX, 'Orders', inbox);
    graph.addFolder(MAILBOX, "Bob's", inbox);
    graph.deliver(MAILBOX, Buffer.from('Subject: x\r\n\r\nx\r\n'), 'inbox');
  });
  after(async () => {
    await graph?.close();
  });

  const check = async (extra: Partial<ConnectionInput>): Promise<CheckStep[]> =>
    graphSource.check(connectionSchema.parse(graphConnection(graph, extra)), { log: quietLog });
  const failed = (steps: CheckStep[]): CheckStep => {
    const step = steps.find((s) => !s.ok);
    assert.ok(step, `a step fails: ${JSON.stringify(steps)}`);
    return step;
  };

  it('passes token, mailbox and folder (a path of display names) for a good connection', async () => {
    const steps = await check({ folder: 'Inbox/Orders', moveTo: "inbox/Bob's" });
    assert.deepEqual(
      steps.map((s) => [s.step, s.ok]),
      [
        ['token', true],
        ['mailbox', true],
        ['folder', true],
        ['folder', true],
      ],
      JSON.stringify(steps),
    );
    assert.match(steps[0]!.detail, /Mail\.ReadWrite/);
    assert.match(steps[2]!.detail, /"Inbox\/Orders" has 0 emails, 0 unread/);
  });

  it('names a wrong client secret, and never shows it', async () => {
    const step = failed(await check({ clientSecret: 'the-secret-id-not-its-value' }));
    assert.equal(step.step, 'token');
    assert.match(step.detail, /client secret is wrong \(AADSTS7000215\)/);
    assert.match(step.detail, /Value \(not its Secret ID\)/);
    assert.doesNotMatch(step.detail, /the-secret-id-not-its-value/);
  });

  it('names a tenant that does not exist', async () => {
    const step = failed(await check({ tenantId: 'no-such-tenant' }));
    assert.equal(step.step, 'token');
    assert.match(step.detail, /tenant does not exist \(AADSTS90002\)/);
  });

  it('names an app that is not in the tenant', async () => {
    const step = failed(await check({ clientId: 'someone-elses-app' }));
    assert.match(step.detail, /not known in this tenant.*\(AADSTS700016\)/);
  });

  it('tells missing admin consent from a missing Mail.ReadWrite permission', async () => {
    const noConsent = failed(await check({ clientId: 'app-no-consent', clientSecret: 'secret-2' }));
    assert.equal(noConsent.step, 'token');
    assert.match(noConsent.detail, /no application permissions: admin consent has not been granted/);
    const readOnly = failed(await check({ clientId: 'app-read-only', clientSecret: 'secret-3' }));
    assert.match(readOnly.detail, /carries Mail\.Read but not Mail\.ReadWrite/);
  });

  it('names a mailbox that does not exist', async () => {
    const step = failed(await check({ mailbox: 'nobody@contoso.test' }));
    assert.equal(step.step, 'mailbox');
    assert.match(step.detail, /mailbox does not exist.*nobody@contoso\.test.*ErrorInvalidUser|The requested user 'nobody@contoso\.test' is invalid/);
  });

  it('names a folder that does not exist and lists the ones there are', async () => {
    const step = failed(await check({ folder: 'Inbox/Ordres' }));
    assert.equal(step.step, 'folder');
    assert.match(step.detail, /"Inbox\/Ordres"/);
    assert.match(step.detail, /Folders there: .*Orders/);
  });

  it('keeps the app secret out of every step', async () => {
    for (const steps of [await check({}), await check({ folder: 'nope' })]) {
      assert.ok(steps.every((s) => !s.detail.includes(APP.clientSecret)));
    }
  });
});
