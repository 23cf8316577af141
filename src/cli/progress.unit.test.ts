import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressBar, formatDuration, RateMeter, renderProgressLine } from './progress.js';

test('renderProgressLine shows amount, percentage, rate and ETA within the width', () => {
  const line = renderProgressLine(
    { done: 50 * 1048576, total: 200 * 1048576, rate: 10 * 1048576, etaSeconds: 15, elapsedSeconds: 5 },
    { label: 'backup', note: 'copying', width: 100 },
  );
  assert.match(line, /^backup copying {2}\[#+-+\] {2}25% {2}50 MB\/200 MB {2}10 MB\/s {2}ETA 15s$/);
  assert.ok(renderProgressLine({ done: 1, total: 2, elapsedSeconds: 1 }, { label: 'x'.repeat(200), width: 60 }).length < 60);
  assert.equal(renderProgressLine({ done: 3, elapsedSeconds: 65 }, { unit: 'count' }), '3  1m05s');
});

test('formatDuration and RateMeter', () => {
  assert.equal(formatDuration(7322), '2h02m');
  const m = new RateMeter(5000);
  m.add(0, 0);
  assert.equal(m.rate(), undefined);
  m.add(1000, 100);
  m.add(2000, 300);
  assert.equal(m.rate(), 150);
});

test('the bar draws only when enabled and erases itself', () => {
  const writes: string[] = [];
  const stream = { isTTY: true, columns: 80, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
  let t = 0;
  const off = createProgressBar({ enabled: false, stream, now: () => t });
  off.update(1, 2);
  off.done();
  assert.equal(writes.length, 0);
  const on = createProgressBar({ enabled: true, stream, now: () => t, intervalMs: 100 });
  t = 1000;
  on.update(1, 2);
  on.update(1, 2); // too soon: not redrawn
  t = 1200;
  on.update(2, 2);
  on.done();
  assert.equal(writes.length, 3);
  assert.equal(writes[2], '\r\x1b[K');
});
