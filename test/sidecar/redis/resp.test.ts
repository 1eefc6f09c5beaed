/** RESP2 replies however TCP splits them, and bytes that are not RESP refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisReplyError, createReplyReader, encodeCommand, type RespValue } from '../../../sidecar/redis/resp.ts';

const STREAM = Buffer.from('+OK\r\n-NOSCRIPT No matching script.\r\n:42\r\n$4\r\nh\u00e9l\r\n$-1\r\n*4\r\n:1\r\n:0\r\n$3\r\n1.5\r\n*0\r\n*-1\r\n$0\r\n\r\n', 'utf8');

function readAll(chunks: Buffer[]): RespValue[] {
  const out: RespValue[] = [];
  const read = createReplyReader((v) => out.push(v));
  for (const c of chunks) read(c);
  return out;
}

test('every reply type, and the same replies for every split of the stream into two or three chunks', () => {
  const whole = readAll([STREAM]);
  assert.equal(whole.length, 8);
  assert.deepEqual(whole.slice(2), [42, 'hél', null, [1, 0, '1.5', []], null, '']);
  assert.equal(whole[0], 'OK');
  assert.ok(whole[1] instanceof RedisReplyError && whole[1].code === 'NOSCRIPT');
  for (let i = 1; i < STREAM.length; i++) {
    assert.deepEqual(readAll([STREAM.subarray(0, i), STREAM.subarray(i)]), whole, `split at ${i}`);
    const j = Math.min(STREAM.length - 1, i + 3);
    if (j > i) assert.deepEqual(readAll([STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)]), whole, `split at ${i} and ${j}`);
  }
  assert.deepEqual(readAll([...STREAM].map((b) => Buffer.from([b]))), whole, 'one byte at a time');
});

test('bytes that are not RESP throw, so the connection is dropped rather than misread', () => {
  assert.throws(() => readAll([Buffer.from('HTTP/1.1 400 Bad Request\r\n')]), /unexpected type byte/);
  assert.throws(() => readAll([Buffer.from(':12\rx')]), /CR without LF/);
  assert.throws(() => readAll([Buffer.from(`$${'9'.repeat(80)}`)]), /too long/);
});

test('commands are arrays of bulk strings, lengths in bytes', () => {
  assert.equal(encodeCommand(['SET', 'k', 'é']), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n');
});
