import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedArchiveCommand, isPgkeepArchiveCommand } from './checks/archive.js';

test('isPgkeepArchiveCommand recognises pgkeep wal push %p in its usual forms', () => {
  for (const ok of [
    'pgkeep wal push %p',
    '/usr/local/bin/pgkeep --config /etc/pgkeep/pgkeep.toml wal push %p',
    'npx pgkeep --cluster prod wal push "%p"',
    'pgkeep wal push %p --log-level warn',
  ]) {
    assert.ok(isPgkeepArchiveCommand(ok), ok);
  }
  for (const bad of ['cp %p /archive/%f', 'pgkeep wal push', 'pgkeep wal get %f %p', 'notpgkeep wal push %p', '']) {
    assert.ok(!isPgkeepArchiveCommand(bad), bad);
  }
});

test('expectedArchiveCommand names the config file and a non-default cluster', () => {
  assert.equal(expectedArchiveCommand({ clusterName: 'main' }), 'pgkeep wal push %p');
  assert.equal(
    expectedArchiveCommand({ clusterName: 'prod', configFile: '/etc/pgkeep/pgkeep.toml' }),
    'pgkeep --config /etc/pgkeep/pgkeep.toml --cluster prod wal push %p',
  );
});
