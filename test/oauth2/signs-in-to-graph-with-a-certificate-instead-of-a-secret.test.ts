import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectionSchema } from '../../src/config/schema.ts';
import { graphSource } from '../../src/sources/graph/graph-source.ts';
import { fakeGraphWithMailbox, graphConnection, TENANT } from '../graph/graph-kit.ts';
import { generateTestCertificate, type TestCertificate } from '../support/fake-certificate.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { quietLog } from '../support/postroom.ts';

const CERT_APP = 'app-with-certificate';

describe('Graph app signing in with a certificate', () => {
  let graph: FakeGraph;
  let certificate: TestCertificate;

  before(async () => {
    graph = await fakeGraphWithMailbox();
    certificate = await generateTestCertificate();
    graph.addApp({ tenantId: TENANT, clientId: CERT_APP, clientSecret: 'never-used', roles: ['Mail.ReadWrite'], certificatePem: certificate.certPem });
  });
  after(async () => {
    await graph?.close();
  });

  const check = (thumbprint: string, privateKey: string) =>
    graphSource.check(
      connectionSchema.parse(graphConnection(graph, { clientId: CERT_APP, clientSecret: undefined, certificate: { thumbprint, privateKey } })),
      { log: quietLog },
    );

  it('gets a token with a client assertion signed by the key, for a SHA-1 or a SHA-256 thumbprint', async () => {
    const x509 = new X509Certificate(certificate.certPem);
    for (const thumbprint of [x509.fingerprint, x509.fingerprint256]) {
      const steps = await check(thumbprint, certificate.keyPem);
      assert.ok(
        steps.every((step) => step.ok),
        `${thumbprint.length > 60 ? 'SHA-256' : 'SHA-1'}: ${JSON.stringify(steps)}`,
      );
    }
    assert.equal(graph.requests.filter((r) => r.kind === 'token').length, 2);
  });

  it('says the certificate is not the registered one when the thumbprint does not match', async () => {
    const steps = await check('00'.repeat(20), certificate.keyPem);
    assert.equal(steps[0]?.ok, false);
    assert.match(steps[0]!.detail, /certificate is not registered .*AADSTS700027/);
  });
});
