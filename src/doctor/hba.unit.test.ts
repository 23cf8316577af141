import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HbaRule } from '../pg/catalog.js';
import { addressInNetwork, evaluateHba, parseIp, suggestHbaLine, type HbaClient } from './hba.js';

let line = 0;
function rule(type: string, database: string, user: string, address: string | null, netmask: string | null, authMethod: string): HbaRule {
  return {
    lineNumber: ++line,
    type,
    database: database.split(','),
    user: user.split(','),
    address,
    netmask,
    authMethod,
    options: null,
    error: null,
  };
}

const client = (over: Partial<HbaClient> = {}): HbaClient => ({
  socket: false,
  address: '10.0.0.5',
  ssl: false,
  user: 'backup',
  memberOf: ['backup'],
  ...over,
});

test('parseIp handles IPv4, IPv6, compression and IPv4-mapped addresses', () => {
  assert.deepEqual(Array.from(parseIp('10.0.0.5')!), [10, 0, 0, 5]);
  assert.equal(parseIp('::1')!.length, 16);
  assert.equal(parseIp('::1')![15], 1);
  assert.deepEqual(Array.from(parseIp('::ffff:192.168.1.2')!), [192, 168, 1, 2]);
  assert.equal(parseIp('fe80::1%eth0')![0], 0xfe);
  assert.equal(parseIp('2001:db8::8a2e:370:7334')![15], 0x34);
  assert.equal(parseIp('1:2:3:4:5:6:7:8')![15], 8);
  assert.equal(parseIp('256.0.0.1'), null);
  assert.equal(parseIp('db.example.com'), null);
  assert.equal(parseIp('1::2::3'), null);
});

test('addressInNetwork compares under the netmask', () => {
  assert.ok(addressInNetwork('10.0.0.5', '10.0.0.0', '255.255.255.0'));
  assert.ok(!addressInNetwork('10.0.1.5', '10.0.0.0', '255.255.255.0'));
  assert.ok(addressInNetwork('10.0.0.5', '10.0.0.5', '255.255.255.255'));
  assert.ok(addressInNetwork('::1', '::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'));
  assert.ok(!addressInNetwork('10.0.0.5', '::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'));
});

test('evaluateHba: "all" databases do not cover replication; first match wins', () => {
  const rules = [rule('local', 'all', 'all', null, null, 'trust'), rule('host', 'all', 'all', '0.0.0.0', '0.0.0.0', 'scram-sha-256')];
  assert.equal(evaluateHba(rules, client()).kind, 'none');
  assert.equal(evaluateHba(rules, client({ socket: true, address: null })).kind, 'none');

  const withRepl = [
    rule('host', 'replication', 'backup', '10.0.0.0', '255.255.255.0', 'reject'),
    rule('host', 'replication', 'all', '10.0.0.0', '255.0.0.0', 'scram-sha-256'),
  ];
  const v = evaluateHba(withRepl, client());
  assert.equal(v.kind, 'rejected');
  const v2 = evaluateHba(withRepl, client({ user: 'other', memberOf: ['other'] }));
  assert.equal(v2.kind, 'admitted');
  assert.equal(v2.kind === 'admitted' && v2.rule.authMethod, 'scram-sha-256');
  assert.equal(evaluateHba(withRepl, client({ address: '192.168.0.1' })).kind, 'none');
});

test('evaluateHba: types, +role membership, ssl, and uncertain host names', () => {
  const rules = [
    rule('hostssl', 'replication', 'all', 'all', null, 'cert'),
    rule('local', 'replication', '+backupers', null, null, 'peer'),
    rule('host', 'replication', 'all', 'backup-host.example.com', null, 'md5'),
  ];
  assert.equal(evaluateHba(rules, client({ ssl: true })).kind, 'admitted');
  assert.equal(evaluateHba(rules, client({ socket: true, address: null, memberOf: ['backup', 'backupers'] })).kind, 'admitted');
  assert.equal(evaluateHba(rules, client({ socket: true, address: null })).kind, 'none');
  assert.equal(evaluateHba(rules, client()).kind, 'uncertain');
  // a line with a parse error is ignored, as the server does
  const broken = [{ ...rule('host', 'replication', 'all', 'all', null, 'trust'), error: 'invalid' }];
  assert.equal(evaluateHba(broken, client()).kind, 'none');
});

test('suggestHbaLine gives a local or a host line with a /32 or /128 mask', () => {
  assert.match(suggestHbaLine('backup', null), /^local\s+replication\s+backup\s+peer$/);
  assert.match(suggestHbaLine('backup', '10.0.0.5'), /^host\s+replication\s+backup\s+10\.0\.0\.5\/32\s+scram-sha-256$/);
  assert.match(suggestHbaLine('backup', '::ffff:10.0.0.5'), /10\.0\.0\.5\/32/);
  assert.match(suggestHbaLine('backup', '2001:db8::1'), /2001:db8::1\/128/);
  assert.match(suggestHbaLine('Backup User', null), /"Backup User"/);
});
