// docs/scenarios.md is generated from the scenarios' data: the committed file must be what the code writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCENARIOS } from './catalog.js';
import { renderScenariosDoc } from './doc.js';

const DOC = fileURLToPath(new URL('../../docs/scenarios.md', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

test('docs/scenarios.md is what npm run docs:scenarios writes from src/scenarios/', () => {
  const committed = readFileSync(DOC, 'utf8');
  assert.equal(committed, renderScenariosDoc(), 'docs/scenarios.md is out of date: run npm run docs:scenarios and commit it');
});

test('every scenario is fully described: numbered in order, unique names, prerequisites, what is copied from where', () => {
  assert.deepEqual(
    SCENARIOS.map((s) => s.number),
    SCENARIOS.map((_, i) => i + 1),
  );
  assert.equal(new Set(SCENARIOS.map((s) => s.name)).size, SCENARIOS.length);
  for (const s of SCENARIOS) {
    assert.match(s.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, s.name);
    assert.ok(s.situation && s.fits.method && s.fits.why && s.prerequisites.schedule, s.name);
    assert.ok(s.notThese.length > 0, `${s.name}: why not the others`);
    assert.ok(s.copied.length > 0 && s.copied.every((c) => c.what && c.from), `${s.name}: what is copied from where`);
    assert.ok(s.commands.length > 0, `${s.name}: the commands`);
  }
});

test("README's first section lists every scenario, by number and name", () => {
  const readme = readFileSync(README, 'utf8');
  for (const s of SCENARIOS) assert.match(readme, new RegExp(`^\\| ${s.number} \\| \`${s.name}\` \\|`, 'm'), s.name);
});
