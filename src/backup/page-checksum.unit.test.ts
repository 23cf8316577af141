import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPage, isNewPage, pageChecksum, pageLsn, storedChecksum } from './page-checksum.js';
import { REAL_PAGE_BLOCK, REAL_PAGE_CHECKSUM, realPage } from './page-checksum.fixtures.js';

test('the checksum of a real page matches what PostgreSQL stored in it', () => {
  const page = realPage();
  assert.equal(page.length, 8192);
  assert.equal(storedChecksum(page), REAL_PAGE_CHECKSUM);
  assert.equal(pageChecksum(page, REAL_PAGE_BLOCK), REAL_PAGE_CHECKSUM);
  assert.equal(checkPage(page, REAL_PAGE_BLOCK, 0xffff_ffff_ffff_ffffn), 'ok');
});

test('pd_checksum itself does not enter the computation', () => {
  const page = realPage();
  page.writeUInt16LE(0xbeef, 8);
  assert.equal(pageChecksum(page, REAL_PAGE_BLOCK), REAL_PAGE_CHECKSUM);
});

test('the block number is mixed in: the same page at another block fails', () => {
  const page = realPage();
  assert.notEqual(pageChecksum(page, REAL_PAGE_BLOCK + 1), REAL_PAGE_CHECKSUM);
  assert.equal(checkPage(page, REAL_PAGE_BLOCK + 1, 0xffff_ffff_ffff_ffffn), 'bad');
});

test('a flipped byte anywhere in the page body is detected', () => {
  for (const off of [24, 1000, 4096, 8191]) {
    const page = realPage();
    page[off] = page[off]! ^ 0x40;
    assert.equal(checkPage(page, REAL_PAGE_BLOCK, 0xffff_ffff_ffff_ffffn), 'bad', `offset ${off}`);
  }
});

test('the result is always in 1..65535 and works on unaligned buffers', () => {
  const page = realPage();
  const shifted = Buffer.alloc(8193);
  page.copy(shifted, 1);
  assert.equal(pageChecksum(shifted.subarray(1), REAL_PAGE_BLOCK), REAL_PAGE_CHECKSUM);
  for (let b = 0; b < 200; b++) {
    const c = pageChecksum(page, b * 7919);
    assert.ok(c >= 1 && c <= 65535);
  }
});

test('new pages and pages changed after the backup start are not checked', () => {
  const zero = Buffer.alloc(8192);
  assert.equal(isNewPage(zero), true);
  assert.equal(checkPage(zero, 0, 1n), 'new');
  const page = realPage();
  const lsn = pageLsn(page);
  assert.ok(lsn > 0n);
  page[100] = page[100]! ^ 1; // damage that would fail...
  assert.equal(checkPage(page, REAL_PAGE_BLOCK, lsn), 'after-start'); // ...but the page is newer than the start
  assert.equal(checkPage(page, REAL_PAGE_BLOCK, lsn + 1n), 'bad');
});
