import Modem from '../../node_modules/.pnpm/docker-modem@5.0.7/node_modules/docker-modem/lib/modem.js';
const stats = new Map<string, { n: number; ms: number }>();
const orig = (Modem as any).prototype.dial;
(Modem as any).prototype.dial = function (options: any, callback: any) {
  const key = `${options.method} ${String(options.path).replace(/[0-9a-f]{12,}/g, 'ID').replace(/\?.*/, '').replace(/containers\/[^/]+/, 'containers/X')}`;
  const t = performance.now();
  return orig.call(this, options, (err: any, data: any) => {
    const s = stats.get(key) ?? { n: 0, ms: 0 }; s.n++; s.ms += performance.now() - t; stats.set(key, s);
    callback(err, data);
  });
};
process.on('exit', () => { for (const [k, v] of [...stats].sort((a, b) => b[1].n - a[1].n)) console.log(String(v.n).padStart(5), (v.ms / v.n).toFixed(0).padStart(6), 'ms', k); });
