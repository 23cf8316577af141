import { WorkerPool } from '../../dist/repo/worker-pool.js';
const pool = new WorkerPool(2, undefined);
const d = Buffer.allocUnsafeSlow(131072).fill(1);
await Promise.all([pool.run({ op: 'encode', data: Buffer.from(d), codec: { name: 'zstd', level: 3 } }), pool.run({ op: 'encode', data: Buffer.from(d), codec: { name: 'zstd', level: 3 } })]);
console.log('rss MiB', process.memoryUsage().rss / 1048576, 'maxRSS', process.resourceUsage().maxRSS / 1024);
await pool.close();
