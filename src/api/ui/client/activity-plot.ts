/** Emails and pipeline messages per minute (or per hour) as an inline SVG: bars for emails, a line for messages. */
import { h } from 'preact';

const WIDTH = 1200;
const HEIGHT = 180;
const PAD = { left: 36, right: 8, top: 10, bottom: 22 };

function niceMax(value: number): number {
  if (value <= 5) return 5;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * power >= value)! * power;
  return step;
}

export function ActivityPlot(props: { start: string; bucketMs: number; emails: number[]; messages: number[] }) {
  const { emails, messages, bucketMs } = props;
  const n = emails.length;
  const start = Date.parse(props.start);
  const max = niceMax(Math.max(1, ...emails, ...messages));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (i / Math.max(1, n)) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const barW = Math.max(1, plotW / Math.max(1, n) - 1);
  const line = messages.map((v, i) => `${(x(i) + barW / 2).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const hourTicks: number[] = [];
  for (let i = 0; i < n; i++) if ((start + i * bucketMs) % 3_600_000 === 0) hourTicks.push(i);
  const totalEmails = emails.reduce((a, b) => a + b, 0);
  const totalMessages = messages.reduce((a, b) => a + b, 0);
  const hours = Math.round((n * bucketMs) / 3_600_000);
  const per = bucketMs >= 3_600_000 ? 'hour' : 'minute';
  // Hourly bars: a time under every third one, so the labels do not run into each other.
  const labelled = (tick: number) => per === 'minute' || tick % 3 === 0;

  return h(
    'figure',
    { class: 'plot' },
    h(
      'figcaption',
      {},
      h('strong', {}, `Per ${per}, last `, String(hours), ' h'),
      h('span', { class: 'legend emails' }, `Emails (${totalEmails})`),
      h('span', { class: 'legend messages' }, `Pipeline messages (${totalMessages})`),
    ),
    h(
      'svg',
      {
        viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
        role: 'img',
        'aria-label': `Emails and pipeline messages per ${per} over the last ${hours} hours: ${totalEmails} emails, ${totalMessages} pipeline messages`,
      },
      [0, 0.5, 1].map((f) =>
        h(
          'g',
          { key: f },
          h('line', { class: 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(max * f), y2: y(max * f) }),
          h('text', { class: 'axis', x: PAD.left - 4, y: y(max * f) + 4, 'text-anchor': 'end' }, String(Math.round(max * f))),
        ),
      ),
      hourTicks.map((i, tick) =>
        h(
          'g',
          { key: `t${i}` },
          h('line', { class: 'grid', x1: x(i), x2: x(i), y1: PAD.top, y2: PAD.top + plotH }),
          labelled(tick)
            ? h(
                'text',
                { class: 'axis', x: x(i), y: HEIGHT - 6, 'text-anchor': x(i) > WIDTH - 60 ? 'end' : 'middle' },
                new Date(start + i * bucketMs).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
              )
            : null,
        ),
      ),
      emails.map((v, i) =>
        v > 0
          ? h(
              'rect',
              { key: `b${i}`, class: 'bar', x: x(i), y: y(v), width: barW, height: PAD.top + plotH - y(v) },
              h('title', {}, `${new Date(start + i * bucketMs).toLocaleTimeString()}: ${v} email(s), ${messages[i]} message(s)`),
            )
          : null,
      ),
      h('polyline', { class: 'series', points: line, fill: 'none' }),
    ),
  );
}
