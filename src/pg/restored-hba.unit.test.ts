import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hardenHostTrust, hbaForCopy } from './restored-hba.js';

test("a restored copy never trusts a host line: written files have none, the backup's are hardened", () => {
  assert.ok(hbaForCopy(false).every((l) => l.startsWith('local')));
  assert.ok(
    hbaForCopy(true)
      .filter((l) => l.startsWith('host'))
      .every((l) => l.endsWith('scram-sha-256')),
  );
  const backup = [
    '# TYPE DATABASE USER ADDRESS METHOD',
    'local   all   postgres   peer',
    'host    all   all   127.0.0.1/32   trust',
    'hostssl app   app   10.0.0.0 255.0.0.0   trust   # office',
    'host    all   all   192.168.0.0/16   cert',
    'host    trust trust 10.1.0.0/16   reject',
    'host    all   all   all   md5',
  ].join('\n');
  const { text, changed } = hardenHostTrust(backup);
  assert.deepEqual(changed, ['host all all 127.0.0.1/32 scram-sha-256', 'hostssl app app 10.0.0.0 255.0.0.0 scram-sha-256']);
  const active = text.split('\n').filter((l) => !l.trimStart().startsWith('#'));
  assert.ok(!active.some((l) => /^host\S*\s.*\btrust\s*$/.test(l.replace(/#.*$/, '').trim())), text);
  assert.ok(active.includes('local   all   postgres   peer'), 'local lines untouched');
  assert.ok(active.includes('host    all   all   192.168.0.0/16   cert'), 'stronger methods untouched');
  assert.ok(active.includes('host    trust trust 10.1.0.0/16   reject'), 'a database or role named trust is not a method');
  assert.deepEqual(hardenHostTrust('local all all trust\n'), { text: 'local all all trust\n', changed: [], includes: [] });
  assert.deepEqual(hardenHostTrust('include_dir conf.d # more\nhost all all all md5\n').includes, ['include_dir conf.d']);
});
