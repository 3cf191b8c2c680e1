/**
 * The README's three Prometheus alert rules are valid (promtool check rules) and fire on what a
 * real /metrics says about a mailbox that stopped: no successful poll for twenty minutes, two dead
 * letters, the oldest undelivered pipeline message twenty minutes old. The series promtool
 * evaluates are the real scrape's values, held for the test's ten minutes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../support/cli.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, jumpingClock, makeDeadLetters, sampleEmail, startApi } from './api-kit.ts';
import { parsePrometheus } from './prometheus-text.ts';

const run = promisify(execFile);
const STOPPED_FOR_MS = 20 * 60_000;
const RULE_SERIES = [
  'postroom_seconds_since_last_successful_poll',
  'postroom_polling_interval_seconds',
  'postroom_connection_paused',
  'postroom_dead_lettered_total',
  'postroom_dead_letters',
  'postroom_oldest_undelivered_seconds',
];

async function promtool(): Promise<string | undefined> {
  try {
    await run('promtool', ['--version']);
    return 'promtool';
  } catch {
    return undefined;
  }
}

async function readmeRules(): Promise<string> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Alerts'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'the README has the rules in a yaml block under "### Alerts"');
  return block;
}

describe('the README alert rules', async () => {
  const tool = await promtool();
  let dovecot: Dovecot;
  let ws: Workspace;
  let api: ApiHarness;

  before(async () => {
    if (!tool) return;
    dovecot = await startDovecot();
    ws = await workspace();
    const user = await dovecot.addUser('orders', 'pw-orders-5');
    await makeDeadLetters(ws, dovecot, user, sampleEmail('stuck invoice'), { name: 'orders' });
    const clock = jumpingClock();
    api = await startApi(ws, { clock, connections: [imapConnection(dovecot, user, { name: 'orders', pollingInterval: '60s' })] });
    // The mailbox stopped: nothing polled it since, and twenty minutes went by.
    clock.jump(STOPPED_FOR_MS);
  });
  after(async () => {
    await api?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('pass promtool check rules and fire on a stopped mailbox', {
    skip: tool ? false : 'promtool not installed (Debian package prometheus; scripts/test.sh installs it)',
  }, async () => {
    const rulesPath = join(ws.dir, 'postroom-rules.yml');
    await writeFile(rulesPath, await readmeRules());
    const checked = await run('promtool', ['check', 'rules', rulesPath]);
    assert.match(checked.stdout, /SUCCESS: 3 rules found/);

    const families = parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body);
    const series = RULE_SERIES.flatMap((name) =>
      (families.get(name)?.metrics ?? []).map((metric) => ({
        series: `${name}{connection="${metric.labels?.connection}"}`,
        values: `${metric.value}x10`,
      })),
    );
    const values = Object.fromEntries(series.map((s) => [s.series, Number(s.values.replace(/x10$/, ''))]));
    assert.ok(values['postroom_seconds_since_last_successful_poll{connection="orders"}']! >= STOPPED_FOR_MS / 1000);
    assert.equal(values['postroom_dead_letters{connection="orders"}'], 2);
    assert.ok(values['postroom_oldest_undelivered_seconds{connection="orders"}']! >= STOPPED_FOR_MS / 1000);

    // Each alert as the README's rule says it: its labels and its summary for this connection.
    const rules = (parse(await readmeRules()) as { groups: Array<{ rules: Array<{ alert: string; annotations: { summary: string } }> }> }).groups[0]!.rules;
    const alert = (alertname: string, severity: string) => ({
      eval_time: '5m',
      alertname,
      exp_alerts: [
        {
          exp_labels: { connection: 'orders', severity },
          exp_annotations: { summary: rules.find((rule) => rule.alert === alertname)!.annotations.summary.replaceAll('{{ $labels.connection }}', 'orders') },
        },
      ],
    });
    const testPath = join(ws.dir, 'postroom-rules.test.yml');
    await writeFile(
      testPath,
      stringify({
        rule_files: [rulesPath],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: series,
            alert_rule_test: [alert('PostroomMailboxNotPolled', 'warning'), alert('PostroomDeadLetter', 'warning'), alert('PostroomDeliveryStuck', 'critical')],
          },
        ],
      }),
    );
    const tested = await run('promtool', ['test', 'rules', testPath]).catch((error: { stdout?: string; stderr?: string }) => {
      assert.fail(`promtool test rules failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    assert.match(tested.stdout, /SUCCESS/);
  });
});
